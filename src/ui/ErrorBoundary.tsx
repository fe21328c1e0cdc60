import { Component, type ErrorInfo, type ReactNode } from 'react';

interface Props {
  children: ReactNode;
  /** Shown in the fallback, e.g. "the result panel". */
  what?: string;
}

interface State {
  error: Error | null;
}

/** Keeps a rendering bug from blanking the page: shows what broke and a way back. */
export class ErrorBoundary extends Component<Props, State> {
  state: State = { error: null };

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error('Voxelbench UI error', error, info.componentStack);
  }

  render() {
    const { error } = this.state;
    if (!error) return this.props.children;
    return (
      <div className="crash" role="alert">
        <div className="crash-title">Something went wrong in {this.props.what ?? 'the page'}.</div>
        <pre className="crash-msg">{error.message || String(error)}</pre>
        <div className="row">
          <button onClick={() => this.setState({ error: null })}>Try again</button>
          <button className="ghost" onClick={() => window.location.reload()}>
            Reload page
          </button>
        </div>
      </div>
    );
  }
}
