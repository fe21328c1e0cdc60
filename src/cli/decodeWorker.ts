/** A worker thread of the CLI's decode pool (decodePool.ts): answers each request with core's answerDecode. */
import { parentPort } from 'node:worker_threads';
import { answerDecode, type DecodeRequest } from '../core/motors/decodePool';

parentPort?.on('message', (m: DecodeRequest) => {
  const { reply, transfer } = answerDecode(m);
  parentPort!.postMessage(reply, transfer);
});
