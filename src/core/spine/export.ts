/**
 * Spine preset export and metric (placeholder; being implemented).
 */
import type { VertebraRow } from './pipeline';

export interface SpineStudyPrediction {
  studyUid: string;
  vertebrae: VertebraRow[];
  patientOverall?: number;
}

export interface SpineLabel {
  patient_overall: number;
  /** C1..C7. */
  C: number[];
}

export function spineSubmissionCsv(rows: readonly SpineStudyPrediction[]): string {
  void rows;
  throw new Error('not implemented yet');
}

export function parseSpineLabelsCsv(text: string, name = 'labels.csv'): Map<string, SpineLabel> {
  void [text, name];
  throw new Error('not implemented yet');
}

export interface SpineMetricResult {
  loss: number;
  perStudy: { studyUid: string; loss: number }[];
  missing: string[];
}

export function spineMetric(labels: Map<string, SpineLabel>, predictions: readonly SpineStudyPrediction[]): SpineMetricResult {
  void [labels, predictions];
  throw new Error('not implemented yet');
}
