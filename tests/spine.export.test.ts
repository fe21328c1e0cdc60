/**
 * Spine export and metric: submission.csv rows, the labels CSV, the RSNA 2022 weighted log loss
 * against a Python implementation (tools/make_spine_fixtures.py rsna_metric), and a vertebra that is
 * not found on the CT (no fracture value, SPINE_MISSING in the CSV).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSpineLabelsCsv, parseSpineSubmissionCsv, patientOverallBasis, SPINE_MISSING, spineMetric, spineSubmissionCsv, type SpineStudyPrediction } from '../src/core/spine/export';
import type { SpineResult, VertebraRow } from '../src/core/spine/pipeline';
import { spinePreset, VERTEBRAE, withoutNotFound } from '../src/core/presets/spine';
import { InputError } from '../src/core/volume';

const ROOT = resolve(__dirname, '..');
const REF = JSON.parse(readFileSync(resolve(ROOT, 'tests/fixtures/spine/reference.json'), 'utf8'));

const pred = (uid: string, p: number[]): SpineStudyPrediction => ({
  studyUid: uid,
  vertebrae: VERTEBRAE.map((name, k) => ({ name, fracture: p[k] })),
  patientOverall: p[7],
});

describe('RSNA 2022 metric', () => {
  it('equals the Python implementation (per-row weights 1/2 and 7/14, sum(w * l) / sum(w); 0 and 1 clipped)', () => {
    const labels = new Map(REF.metric.labels.map((y: number[], i: number) => [`s${i}`, { C: y.slice(0, 7), patient_overall: y[7] }]));
    const preds = REF.metric.predictions.map((p: number[], i: number) => pred(`s${i}`, p));
    const m = spineMetric(labels as Map<string, { C: number[]; patient_overall: number }>, preds);
    expect(m.loss).toBeCloseTo(REF.metric.loss, 12);
    m.perStudy.forEach((s, i) => expect(s.loss).toBeCloseTo(REF.metric.perStudy[i], 12));
    expect(m.rows).toBe(24);
    expect(m.missing).toEqual([]);
  });

  it('a perfect prediction scores ~0; missing and unlabelled studies are reported, not scored', () => {
    const labels = parseSpineLabelsCsv('StudyInstanceUID,patient_overall,C1,C2,C3,C4,C5,C6,C7\na,1,0,0,0,0,1,0,0\nb,0,0,0,0,0,0,0,0\n');
    const m = spineMetric(labels, [pred('a', [0, 0, 0, 0, 1, 0, 0, 1]), pred('zz', [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5])]);
    expect(m.loss).toBeLessThan(1e-12);
    expect(m.missing).toEqual(['b']);
    expect(m.unlabelled).toEqual(['zz']);
  });
});

describe('CSV', () => {
  it('submission.csv: row_id,fractured with {uid}_C1..C7 and _patient_overall; reads back', () => {
    const csv = spineSubmissionCsv([pred('1.2.3', [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.912345678])]);
    expect(csv.split('\n')).toEqual([
      'row_id,fractured',
      '1.2.3_C1,0.1', '1.2.3_C2,0.2', '1.2.3_C3,0.3', '1.2.3_C4,0.4', '1.2.3_C5,0.5', '1.2.3_C6,0.6', '1.2.3_C7,0.7',
      '1.2.3_patient_overall,0.912346',
      '',
    ]);
    const back = parseSpineSubmissionCsv(csv);
    expect(back[0].studyUid).toBe('1.2.3');
    expect(back[0].patientOverall).toBeCloseTo(0.912346, 9);
    // a vertebra without a mask has no stage-2 value: 0.5
    expect(spineSubmissionCsv([{ studyUid: 'x', vertebrae: [{ name: 'C1', fracture: 0.2 }] }]).split('\n')[2]).toBe('x_C2,0.5');
  });

  it('labels CSV: the sample sim_neck_labels.csv, and clear messages for bad files', () => {
    const labels = parseSpineLabelsCsv(readFileSync(resolve(ROOT, 'public/samples/ct/sim_neck_labels.csv'), 'utf8'), 'sim_neck_labels.csv');
    expect([...labels.values()]).toEqual([{ patient_overall: 1, C: [0, 0, 0, 0, 1, 0, 0] }]);
    expect([...labels.keys()][0]).toBe(REF.sim_neck.studyUid);
    expect(() => parseSpineLabelsCsv('StudyInstanceUID,C1\nx,1\n', 'l.csv')).toThrow(InputError);
    expect(() => parseSpineLabelsCsv('StudyInstanceUID,C1\nx,1\n', 'l.csv')).toThrow('l.csv: missing column(s) patient_overall, C2, C3, C4, C5, C6, C7');
    expect(() => parseSpineLabelsCsv('StudyInstanceUID,patient_overall,C1,C2,C3,C4,C5,C6,C7\nx,1,0,0,2,0,0,0,0\n', 'l.csv')).toThrow("l.csv, line 2: C3 must be 0 or 1, got '2'");
    expect(() => parseSpineLabelsCsv('', 'l.csv')).toThrow('l.csv: the file is empty');
  });

  it("labels and submissions are read with core's CSV reader: BOM, CRLF, quotes, blank lines, any column order", () => {
    const text = '\uFEFF"C7",C6,C5,C4,C3,C2,C1,patient_overall,"StudyInstanceUID",notes\r\n0,0,1,0,0,0,0,1,"1.2.3","fracture, C5"\r\n\r\n  \r\n0,0,0,0,0,0,0,0, 4.5.6 ,"a ""quoted"" note\non two lines"\r\n';
    const labels = parseSpineLabelsCsv(text, 'l.csv');
    expect([...labels.entries()]).toEqual([
      ['1.2.3', { patient_overall: 1, C: [0, 0, 0, 0, 1, 0, 0] }],
      ['4.5.6', { patient_overall: 0, C: [0, 0, 0, 0, 0, 0, 0] }],
    ]);
    const head = 'StudyInstanceUID,patient_overall,C1,C2,C3,C4,C5,C6,C7\n';
    expect(() => parseSpineLabelsCsv(`${head}a,0,0,0,0,0,0,0,0\n\nb,0,0,0,0,0,0,0,\n`, 'l.csv')).toThrow("l.csv, line 3: C7 must be 0 or 1, got ''");
    expect(() => parseSpineLabelsCsv(`${head}a,0,0,0,0,0,0,0,0\na,1,0,0,0,0,0,0,0\n`, 'l.csv')).toThrow('l.csv, line 3: StudyInstanceUID a appears twice');
    expect(() => parseSpineLabelsCsv(`${head},0,0,0,0,0,0,0,0\n`, 'l.csv')).toThrow('l.csv, line 2: empty StudyInstanceUID');
    expect(() => parseSpineLabelsCsv(' \n\n', 'l.csv')).toThrow('l.csv: the file is empty');

    const back = parseSpineSubmissionCsv('row_id,fractured\r\n"1.2.3_C1",0.25\r\n\r\n1.2.3_patient_overall,1e-4\r\n');
    expect(back).toEqual([{ studyUid: '1.2.3', vertebrae: [{ name: 'C1', fracture: 0.25 }], patientOverall: 1e-4 }]);
    expect(() => parseSpineSubmissionCsv('row_id,prob\n', 's.csv')).toThrow('s.csv: expected the header row_id,fractured');
    expect(() => parseSpineSubmissionCsv('row_id,fractured\n1.2.3_C9,0.5\n', 's.csv')).toThrow('s.csv, line 2: expected {StudyInstanceUID}_C1..C7|patient_overall,value');
    expect(() => parseSpineSubmissionCsv('row_id,fractured\n1.2.3_C1,x\n', 's.csv')).toThrow(InputError);
  });
});

describe('a vertebra not found on the CT', () => {
  const row = (name: string, present: boolean, fracture?: number): VertebraRow => ({
    name,
    present,
    voxels: present ? 100 : 0,
    volumeMl: present ? 1 : 0,
    sliceRange: present ? [0, 1] : null,
    meanProb: 0.3,
    ...(fracture !== undefined ? { fracture } : {}),
  });
  // C1 has crops from a low-probability box but no voxel on the CT ("(not found)"); C2 has no box at all
  const result: SpineResult = {
    labels: new Uint8Array(1),
    vertebrae: VERTEBRAE.map((name, k) => (k === 0 ? row(name, false, 0.9) : k === 1 ? row(name, false) : row(name, true, 0.1))),
    patientOverall: 1 - 0.1 * 0.9 ** 5,
    patientSource: 'product',
    timings: { preprocessMs: 0, segMs: 0, clsMs: 0 },
  };

  it('gets no fracture value; patient_overall from the product leaves it out; submission.csv gives it SPINE_MISSING and stays complete', () => {
    const r = withoutNotFound(result, spinePreset);
    expect(r.vertebrae[0].fracture).toBeUndefined();
    expect('fracture' in r.vertebrae[0]).toBe(false);
    expect(r.vertebrae.slice(2).map((v) => v.fracture)).toEqual([0.1, 0.1, 0.1, 0.1, 0.1]);
    expect(r.patientOverall).toBeCloseTo(1 - 0.9 ** 5, 12);
    const csv = spineSubmissionCsv([{ studyUid: 's', vertebrae: r.vertebrae, patientOverall: r.patientOverall }]);
    expect(SPINE_MISSING).toBe(0.5);
    expect(csv.trim().split('\n')).toEqual(['row_id,fractured', 's_C1,0.5', 's_C2,0.5', 's_C3,0.1', 's_C4,0.1', 's_C5,0.1', 's_C6,0.1', 's_C7,0.1', `s_patient_overall,${Number((1 - 0.9 ** 5).toPrecision(6))}`]);
    expect(parseSpineSubmissionCsv(csv)[0].vertebrae).toHaveLength(7);
    // the table says what patient_overall used
    expect(patientOverallBasis(r.vertebrae, r.patientSource)).toBe('1 - product of (1 - C_k) over C3, C4, C5, C6, C7; left out: C1, C2 (not found)');
    const noMask = r.vertebrae.map((v, k) => (k === 6 ? { ...v, fracture: undefined } : v));
    expect(patientOverallBasis(noMask, 'product')).toBe('1 - product of (1 - C_k) over C3, C4, C5, C6; left out: C1, C2 (not found), C7 (no fracture value)');
    expect(patientOverallBasis(r.vertebrae, 'head')).toMatch(/patient head/);
  });

  it("keeps a patient head's value, and changes nothing when every vertebra with a value was found", () => {
    expect(withoutNotFound({ ...result, patientSource: 'head', patientOverall: 0.42 }, spinePreset).patientOverall).toBe(0.42);
    const found = { ...result, vertebrae: result.vertebrae.map((v) => ({ ...v, present: true })) };
    expect(withoutNotFound(found, spinePreset)).toBe(found);
  });
});
