/**
 * The gallery: one card per bundled demo in the registry (thumbnail rendered by the app itself with
 * tools/gallery.ts into public/gallery/<name>.png, a one-line description, a `?demo=` link).
 * The workbench shows it as its empty state, so it is the landing page at '/'.
 */
import { useState } from 'react';
import { PRESETS, type PresetEntry } from '../presets';

function Thumb({ name, label }: { name: string; label: string }) {
  const [missing, setMissing] = useState(false);
  if (missing) return <div className="gallery-thumb-missing">{label}</div>;
  return <img src={`gallery/${name}.png`} alt={`${label}: result as the app shows it`} loading="lazy" onError={() => setMissing(true)} />;
}

function Card({ entry }: { entry: PresetEntry }) {
  const demo = entry.demo!;
  return (
    <a className="gallery-card" href={`./?demo=${encodeURIComponent(demo.name)}`} data-testid={`gallery-${demo.name}`} title={`Open the ${demo.label.toLowerCase()} (runs in this browser)`}>
      <Thumb name={demo.name} label={demo.label} />
      <div className="gallery-card-body">
        <div className="gallery-card-title">{demo.label}</div>
        <div className="small muted">{demo.title}</div>
      </div>
    </a>
  );
}

/** Moves the keyboard focus to the gallery's first card (the landing page's skip link). */
export function focusGallery(): void {
  document.querySelector<HTMLElement>('#gallery a')?.focus();
}

export function Gallery() {
  return (
    <nav className="gallery" id="gallery" aria-label="Demo gallery" data-testid="gallery">
      {PRESETS.filter((p) => p.demo).map((p) => (
        <Card key={p.id} entry={p} />
      ))}
    </nav>
  );
}
