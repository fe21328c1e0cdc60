import type { TensorInfo } from '../core/onnx/model';
import { relaxModel } from './actions';
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
  const ops = Object.entries(info.ops).sort((a, b) => b[1] - a[1]);
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
      {info.externalData.length > 0 && (
        <p className="warn small">Weights stored in external files ({info.externalData.length} tensors) are not supported in the browser.</p>
      )}
      {spec?.hasFixed && !loaded.relaxed && (
        <div className="row">
          <button className="ghost small-btn" onClick={() => void relaxModel()} disabled={busy !== null} data-testid="relax-dims">
            Make spatial dims symbolic
          </button>
        </div>
      )}
      <details className="more">
        <summary>Operators ({ops.length})</summary>
        <div className="ops">
          {ops.map(([op, n]) => (
            <span key={op} className="op">
              {op} <span className="muted">{n}</span>
            </span>
          ))}
        </div>
      </details>
    </Panel>
  );
}
