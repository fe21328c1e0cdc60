/**
 * HMS scoring and export. The metric is Kaggle's "kullback-leibler-divergence" metric used by the
 * HMS competition (https://www.kaggle.com/code/metric/kullback-leibler-divergence, micro_average
 * True): the solution p is the expert votes normalised to a distribution; the submission q is
 * clipped to [eps, 1 - eps] (eps = 1e-15, not renormalised); per row sum of p log(p / q) over the
 * classes with p != 0 (0 where p = 0, scipy's rel_entr convention); the score is the mean over rows.
 */
import { parseCsvRows } from '../io/csv';
import { InputError } from '../volume';

/** Per-row KL and their mean (the Kaggle score). */
export function kaggleKl(solution: readonly (readonly number[])[], submission: readonly (readonly number[])[], eps = 1e-15): { score: number; rows: number[] } {
  if (solution.length !== submission.length) throw new Error(`KL: ${solution.length} solution rows but ${submission.length} submission rows`);
  const rows = solution.map((p, i) => {
    const q = submission[i];
    if (q.length !== p.length) throw new Error(`KL: row ${i} has ${p.length} solution and ${q.length} submission columns`);
    let s = 0;
    for (let j = 0; j < p.length; j++) {
      if (p[j] === 0) continue;
      const qq = Math.min(Math.max(q[j], eps), 1 - eps);
      s += p[j] * Math.log(p[j] / qq);
    }
    return s;
  });
  const score = rows.length ? rows.reduce((a, b) => a + b, 0) / rows.length : NaN;
  return { score, rows };
}

export interface VoteRow {
  eegId: string;
  /** Vote counts per class (summed over rows with the same eeg_id). */
  votes: number[];
  /** votes / sum(votes). */
  target: number[];
}

export interface VotesTable {
  rows: Map<string, VoteRow>;
  warnings: string[];
}

/**
 * A votes CSV: `eeg_id` and one `<class>_vote` column per class (other columns ignored, e.g. HMS
 * train.csv). Several rows of one eeg_id are summed. Rows without votes are skipped with a warning.
 */
/** The most votes one class of one row may have (expert vote counts are small; a larger number is a damaged file). */
const MAX_VOTES = 1e12;

export function parseVotesCsv(text: string, name: string, classes: readonly string[]): VotesTable {
  // core's CSV reader; fields are trimmed, and lines with only blanks are no rows
  const lines = parseCsvRows(text)
    .map((r) => r.map((f) => f.trim()))
    .filter((r) => r.some((f) => f !== ''));
  if (lines.length === 0) throw new InputError(`${name}: the votes file is empty`);
  const header = lines[0].map((h) => h.toLowerCase());
  const idCol = header.indexOf('eeg_id');
  const cols = classes.map((c) => header.indexOf(`${c.toLowerCase()}_vote`));
  const missing = classes.filter((_, i) => cols[i] < 0).map((c) => `${c}_vote`);
  if (idCol < 0 || missing.length) {
    throw new InputError(
      `${name}: a votes file needs the columns eeg_id,${classes.map((c) => `${c}_vote`).join(',')}; missing: ${[...(idCol < 0 ? ['eeg_id'] : []), ...missing].join(', ')}`,
    );
  }
  const rows = new Map<string, VoteRow>();
  const warnings: string[] = [];
  let merged = 0;
  for (let li = 1; li < lines.length; li++) {
    const f = lines[li];
    const id = f[idCol];
    const v = cols.map((c) => Number(f[c]));
    // counts: >= 0 and at most MAX_VOTES, so that rows summed for a repeated eeg_id stay finite
    if (!id || v.some((x) => !Number.isFinite(x) || x < 0 || x > MAX_VOTES)) {
      warnings.push(`${name}: line ${li + 1} is not an eeg_id with ${classes.length} vote counts from 0 to ${MAX_VOTES}; skipped`);
      continue;
    }
    const have = rows.get(id);
    if (have) {
      merged++;
      have.votes = have.votes.map((x, j) => x + v[j]);
    } else rows.set(id, { eegId: id, votes: v, target: [] });
  }
  for (const [id, r] of rows) {
    const s = r.votes.reduce((a, b) => a + b, 0);
    if (s <= 0) {
      warnings.push(`${name}: ${id} has no votes; left out of the score`);
      rows.delete(id);
    } else r.target = r.votes.map((x) => x / s);
  }
  if (merged) warnings.push(`${name}: ${merged} repeated eeg_id row${merged > 1 ? 's were' : ' was'} added to the first (votes summed)`);
  return { rows, warnings };
}

export interface EegScore {
  /** Mean KL over the files that have votes. */
  score: number;
  perFile: { eegId: string; kl: number }[];
  /** Predicted files without votes, and voted ids without a prediction. */
  unlabelled: string[];
  missing: string[];
}

/** KL of each predicted file that has votes, and the overall mean. */
export function scoreEeg(preds: readonly { eegId: string; probabilities: readonly number[] }[], votes: VotesTable, eps = 1e-15): EegScore {
  const have = preds.filter((p) => votes.rows.has(p.eegId));
  const kl = kaggleKl(have.map((p) => votes.rows.get(p.eegId)!.target), have.map((p) => p.probabilities), eps);
  const ids = new Set(preds.map((p) => p.eegId));
  return {
    score: kl.score,
    perFile: have.map((p, i) => ({ eegId: p.eegId, kl: kl.rows[i] })),
    unlabelled: preds.filter((p) => !votes.rows.has(p.eegId)).map((p) => p.eegId),
    missing: [...votes.rows.keys()].filter((id) => !ids.has(id)),
  };
}

/** submission.csv: eeg_id,<class>_vote,... one row per file, probabilities with full precision. */
export function eegSubmissionCsv(rows: readonly { eegId: string; probabilities: readonly number[] }[], classes: readonly string[]): string {
  const head = ['eeg_id', ...classes.map((c) => `${c}_vote`)].join(',');
  const esc = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return [head, ...rows.map((r) => [esc(r.eegId), ...r.probabilities.map((p) => String(p))].join(','))].join('\n') + '\n';
}
