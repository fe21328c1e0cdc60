import { useMemo } from 'react';
import type { ModelInfo, TensorInfo } from '../core/onnx/model';
import { opInModel, opSupport, verdictFor } from '../core/onnx/webgpuOps';
import { makeWebGpu, REWRITE_TOLERANCE, relaxModel } from './actions';
import { Float16Toggle } from './Float16Toggle';
import { fmtBytes, fmtMs } from './format';
import { inputSpec } from './overlay';
import { KV, Panel } from './Panel';
import { useStore } from './store';

function Tensor({ t }: { t: TensorInfo }) {
  return (
    <div className="tensor">
      <span className="tensor-name">{t.name}</span> <span className="muted">{t.type}</span>{' '}
      <span className="mono">[{t.dims.join(', ')}]</span>
    </div>
  );
}

/** Producer, opset, size, ops with their WebGPU support, the verdict and the rewrite button. */
function Inspector({ info }: { info: ModelInfo }) {
  const shaderF16 = useStore((s) => s.runtime?.webgpu.shaderF16);
  const check = useStore((s) => s.rewriteCheck);
  const busy = useStore((s) => s.busy);
  const running = useStore((s) => s.runState.status === 'running');
  const verdict = useMemo(() => verdictFor(info, { shaderF16 }), [info, shaderF16]);
  const ops = Object.entries(info.ops).sort((a, b) => b[1] - a[1]);
  const cls = verdict.verdict === 'will fail' ? 'error' : verdict.verdict === 'runs fully on WebGPU' ? 'done' : 'running';
  return (
    <div className="inspector" data-testid="inspector">
      <div className="inspector-verdict" data-testid="inspector-verdict" data-verdict={verdict.verdict}>
        <span className={`badge status-${cls}`}>{verdict.verdict}</span>
        {verdict.reasons.length > 0 && (
          <ul className="small reasons">
            {verdict.reasons.map((r) => (
              <li key={r}>{r}</li>
            ))}
          </ul>
        )}
      </div>
      {verdict.rewritable > 0 && (
        <div className="row">
          <button
            className="small-btn"
            onClick={() => void makeWebGpu()}
            disabled={busy !== null || running || check?.status === 'checking'}
            data-testid="make-webgpu"
            title="Rewrite the failing nodes into ops the WebGPU backend runs, check the numbers on WASM, and load the rewritten model"
          >
            Make it run on WebGPU
          </button>
        </div>
      )}
      {check && (
        <div className="small" data-testid="rewrite-check" data-status={check.status}>
          {check.status === 'checking' && 'Checking the rewritten model against the original on WASM…'}
          {check.status === 'error' && <span className="warn">Rewrite failed: {check.error}</span>}
          {(check.status === 'ok' || check.status === 'refused') && (
            <span className={check.status === 'ok' ? '' : 'warn'}>
              {check.status === 'ok' ? `Rewrote ${check.rewritten} node${check.rewritten > 1 ? 's' : ''}; check passed` : 'Check failed, not loaded'}: max abs
              difference <span className="mono">{check.result.maxAbsDiff.toExponential(2)}</span>, max rel{' '}
              <span className="mono">{check.result.maxRelDiff.toExponential(2)}</span> (tolerance {REWRITE_TOLERANCE.toExponential(0)}, random input{' '}
              {Object.values(check.result.inputShapes)
                .map((d) => `[${d.join(', ')}]`)
                .join(', ')}
              , WASM){check.result.reason ? ` — ${check.result.reason}` : ''}
            </span>
          )}
        </div>
      )}
      <Float16Toggle info={info} />
      <details className="more" open>
        <summary>Operators ({ops.length})</summary>
        <div className="ops">
          {ops.map(([op, n]) => {
            const s = opSupport(op, info.opset);
            // the op's status in this model, as the verdict above found it
            const here = opInModel(op, info, verdict);
            return (
              <span key={op} className={`op op-${here.support}`} data-testid={`inspector-op-${op}`} data-support={here.support} title={[s.opsets ? `opsets ${s.opsets}` : '', s.note ?? ''].filter(Boolean).join(' · ')}>
                {op} <span className="muted">{n}</span> <span className={`op-badge op-badge-${here.support}`}>{here.text}</span>
              </span>
            );
          })}
        </div>
      </details>
    </div>
  );
}

/** The loaded model: inputs, outputs, size, and the relax-dims switch. */
export function ModelPanel() {
  const model = useStore((s) => s.model);
  const busy = useStore((s) => s.busy);
  if (!model) {
    return (
      <Panel title="Model" testId="model-panel">
        <p className="muted">None. An ONNX model taking (N, C, D, H, W) or (N, C, H, W).</p>
      </Panel>
    );
  }
  const { loaded, fileName } = model;
  const { info } = loaded;
  const spec = inputSpec(info);
  return (
    <Panel
      title="Model"
      testId="model-panel"
      extra={loaded.relaxed ? <span className="badge" title="Fixed spatial dims were made symbolic on load">relaxed dims</span> : null}
    >
      <div className="file-name" title={fileName} data-testid="model-name">
        {fileName}
      </div>
      <div className="tensors">
        <div className="muted small">Inputs</div>
        {info.inputs.map((t) => (
          <Tensor key={t.name} t={t} />
        ))}
        <div className="muted small">Outputs</div>
        {info.outputs.map((t) => (
          <Tensor key={t.name} t={t} />
        ))}
      </div>
      <KV
        rows={[
          ['Parameters', `${info.parameters.toLocaleString()} · ${fmtBytes(info.weightBytes)}`],
          ['Opset', `${info.opset} (IR ${info.irVersion})${info.producer ? ` · ${info.producer}` : ''}`],
          ['Parsed in', fmtMs(loaded.loadMs)],
        ]}
      />
      {spec?.hasFixed && !loaded.relaxed && (
        <div className="row">
          <button className="ghost small-btn" onClick={() => void relaxModel()} disabled={busy !== null} data-testid="relax-dims">
            Make spatial dims symbolic
          </button>
        </div>
      )}
      <Inspector info={info} />
    </Panel>
  );
}
