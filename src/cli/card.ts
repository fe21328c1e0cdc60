/**
 * `voxelbench card`: a starter model card written from what the model says about itself (input
 * scaling done inside the model, layout, fixed dims, outputs and their stride; see
 * src/core/onnx/detect.ts), for the user to edit and pass with --card or store in the model with
 * `voxelbench convert --card`.
 *
 *   npm run --silent cli -- card M.onnx [--out M.json] [--force]
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { inspectModel } from '../core/onnx/model';
import { parseCard, CARD_METADATA_KEY } from '../core/onnx/card';
import { starterCard } from '../core/onnx/detect';
import { InputError } from '../core/volume';

export const CARD_USAGE = `  voxelbench card M.onnx [--out M.json] [--force]   (a starter model card: printed, or written to --out)`;

export function card(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { out: { type: 'string' }, force: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`usage:\n${CARD_USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1) throw new InputError('card needs one model file');
  const path = positionals[0];
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new InputError(`cannot read model '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const info = inspectModel(bytes);
  const c = starterCard(info, basename(path));
  // the card must be one the workbench and presets read back
  parseCard(c, 'the starter card');
  const text = JSON.stringify(c, null, 2) + '\n';
  const notes = [...(c.notes as string[])];
  if (info.metadata[CARD_METADATA_KEY] !== undefined) notes.unshift(`the model already carries a card in metadata_props '${CARD_METADATA_KEY}'; this one is written from the graph alone`);
  if (values.out) {
    if (existsSync(values.out) && !values.force) throw new InputError(`${values.out} exists; pass --force to overwrite it`);
    writeFileSync(values.out, text);
    process.stderr.write(`wrote ${values.out}: a starter card for ${basename(path)}; check and edit it:\n${notes.map((n) => `  - ${n}`).join('\n')}\n`);
  } else process.stdout.write(text);
  return 0;
}
