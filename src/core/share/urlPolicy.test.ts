import { describe, expect, it } from 'vitest';
import { classifyUrl, hostKind, planLinkUrls, refusedText } from './urlPolicy';

const APP = 'https://voxelbench.example/app/index.html?v=1';

describe('classifyUrl', () => {
  it('relative and same-origin URLs are the app’s own', () => {
    for (const u of ['models/tiny.onnx', './samples/ct/a.dcm', 'https://voxelbench.example/other/x.nii.gz', '/demo/brain.nii.gz']) {
      expect(classifyUrl(u, APP).kind, u).toBe('same-origin');
    }
    const c = classifyUrl('samples/protein/a%20b_red.png', APP);
    expect(c).toMatchObject({ host: 'voxelbench.example', file: 'a b_red.png', origin: 'https://voxelbench.example' });
  });

  it('another https origin is asked about; its host and file are named', () => {
    expect(classifyUrl('https://evil.example/m/model.onnx?x=1', APP)).toEqual({
      url: 'https://evil.example/m/model.onnx?x=1',
      kind: 'other-origin',
      origin: 'https://evil.example',
      host: 'evil.example',
      file: 'model.onnx',
    });
    // another port or scheme is another origin
    expect(classifyUrl('https://voxelbench.example:8443/x.onnx', APP).kind).toBe('other-origin');
  });

  it('private, loopback and link-local addresses, in every notation', () => {
    const cases: [string, string][] = [
      ['http://169.254.169.254/latest/meta-data/', 'link-local'],
      ['http://192.168.1.1/admin', 'private'],
      ['https://10.0.0.5/m.onnx', 'private'],
      ['https://172.16.0.1/m.onnx', 'private'],
      ['https://172.31.255.255/m.onnx', 'private'],
      ['https://127.0.0.1:8080/m.onnx', 'private'],
      ['https://127.1/m.onnx', 'private'],
      ['https://0.0.0.0/m.onnx', 'private'],
      ['http://3232235777/x', 'private'], // 192.168.1.1 as one number
      ['http://0xA9FEA9FE/x', 'link-local'], // 169.254.169.254 in hex
      ['https://[::1]/m.onnx', 'private'],
      ['https://[fd12:3456::1]/m.onnx', 'private'],
      ['https://[fc00::1]/m.onnx', 'private'],
      ['https://[fe80::1]/m.onnx', 'link-local'],
      ['https://[::ffff:192.168.1.1]/m.onnx', 'private'],
      ['https://[::ffff:169.254.169.254]/m.onnx', 'link-local'],
      ['https://localhost/m.onnx', 'private'],
      ['https://LOCALHOST./m.onnx', 'private'],
      ['https://printer.local/m.onnx', 'private'],
      ['https://app.localhost/m.onnx', 'private'],
    ];
    for (const [u, k] of cases) expect(classifyUrl(u, APP).kind, u).toBe(k);
    // addresses next to those ranges are public
    for (const u of ['https://172.32.0.1/m', 'https://172.15.255.1/m', 'https://192.169.1.1/m', 'https://169.253.1.1/m', 'https://[2001:db8::1]/m', 'https://11.0.0.1/m', 'https://local.example/m']) {
      expect(classifyUrl(u, APP).kind, u).toBe('other-origin');
    }
  });

  it('the app’s own loopback origin is not refused; another port on it is', () => {
    const local = 'http://127.0.0.1:4173/';
    expect(classifyUrl('http://127.0.0.1:4173/models/a.onnx', local).kind).toBe('same-origin');
    expect(classifyUrl('http://127.0.0.1:9000/a.onnx', local).kind).toBe('private');
    expect(classifyUrl('http://localhost:4173/a.onnx', local).kind).toBe('private');
  });

  it('not http(s), credentials, plain http to another site and garbage are invalid', () => {
    for (const u of ['file:///etc/passwd', 'javascript:alert(1)', 'data:text/plain,hi', 'https://user:pw@evil.example/m.onnx', 'http://evil.example/m.onnx', 'https://exa mple.com/x', 'http://[::g]/']) {
      const c = classifyUrl(u, APP);
      expect(c.kind, u).toBe('invalid');
      expect(c.reason, u).toBeTruthy();
    }
  });
});

describe('hostKind', () => {
  it('reads bare names and addresses', () => {
    expect(hostKind('192.168.0.1')).toBe('private');
    expect(hostKind('::ffff:10.1.2.3')).toBe('private');
    expect(hostKind('fe80::abcd')).toBe('link-local');
    expect(hostKind('example.org')).toBeNull();
    expect(hostKind('256.1.1.1')).toBeNull();
  });
});

describe('planLinkUrls', () => {
  it('groups other origins with their file names, keeps trusted and own ones, refuses private ones', () => {
    const plan = planLinkUrls(
      [
        'models/a.onnx',
        'https://evil.example/m/model.onnx',
        'https://evil.example/d/t1.nii.gz',
        'https://evil.example/again/t1.nii.gz',
        'https://files.example/x.csv',
        'https://trusted.example/y.onnx',
        'http://169.254.169.254/latest/meta-data/',
        'http://192.168.1.1/admin',
      ],
      APP,
      ['https://trusted.example'],
    );
    expect(plan.allowed.map((c) => c.url)).toEqual(['models/a.onnx', 'https://trusted.example/y.onnx']);
    expect(plan.ask).toEqual([
      { origin: 'https://evil.example', host: 'evil.example', files: ['model.onnx', 't1.nii.gz'] },
      { origin: 'https://files.example', host: 'files.example', files: ['x.csv'] },
    ]);
    expect(plan.refused.map(refusedText)).toEqual(['http://169.254.169.254/latest/meta-data/: a link-local address', 'http://192.168.1.1/admin: a private network address']);
  });

  it('trust goes by origin, not by host name alone', () => {
    const plan = planLinkUrls(['https://trusted.example:444/y.onnx'], APP, ['https://trusted.example']);
    expect(plan.allowed).toEqual([]);
    expect(plan.ask[0].host).toBe('trusted.example:444');
  });
});
