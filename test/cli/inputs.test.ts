// `explain` reads whatever it is given for what it is: positional files, standard input, and
// files given with the wrong flag (read for what they are, and the report says so).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, runCli } from './run-cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'ssh-doctor-inputs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const PAIR = join(FIXTURES, 'clean', 'debian12-stock-configs-pair-no-host');
const CLIENT_LOG = join(FIXTURES, 'lab', 'clientalive-outage', 'client.log');
const SERVER_LOG = join(FIXTURES, 'lab', 'clientalive-outage', 'server.log');

function json(r: { stdout: string }) {
  return JSON.parse(r.stdout) as { causes: Array<{ id: string }>; inputs: Array<{ source: string; kind: string; note?: string; given?: string; readAs?: Array<{ what: string }> }> };
}

describe('explain reads what it is given for what it is', () => {
  it('a healthy ssh_config and sshd_config, no --host: exit 0, no cause, and which Host blocks applied', () => {
    const r = runCli(['explain', join(PAIR, 'ssh_config'), join(PAIR, 'sshd_config'), '--json']);
    expect(r.code).toBe(0);
    const report = json(r);
    expect(report.causes).toEqual([]);
    expect(report.inputs.map((i) => i.kind)).toEqual(['ssh-config', 'sshd-config']);
    expect(report.inputs[0]!.note).toMatch(/read for every host.*applied: Host \*/);
  });

  it('the same pair pasted together on standard input is split into the two files', () => {
    const text = readFileSync(join(PAIR, 'ssh_config'), 'utf8') + readFileSync(join(PAIR, 'sshd_config'), 'utf8');
    const r = runCli(['explain', '--json'], { input: text });
    expect(r.code).toBe(0);
    const input = json(r).inputs[0]!;
    expect(input.source).toBe('stdin');
    expect(input.readAs!.map((x) => x.what).sort()).toEqual(['ssh_config', 'sshd_config']);
  });

  it('logs as bare files, and piped, give what their flags give', () => {
    const flagged = json(runCli(['explain', '--client-log', CLIENT_LOG, '--server-log', SERVER_LOG, '--json'])).causes.map((c) => c.id);
    expect(flagged.length).toBeGreaterThan(0);
    expect(json(runCli(['explain', CLIENT_LOG, SERVER_LOG, '--json'])).causes.map((c) => c.id)).toEqual(flagged);
    const piped = readFileSync(CLIENT_LOG, 'utf8') + readFileSync(SERVER_LOG, 'utf8');
    expect(json(runCli(['explain', '--json'], { input: piped })).causes.map((c) => c.id)).toEqual(flagged);
    expect(json(runCli(['explain', '-', '--json'], { input: piped })).causes.map((c) => c.id)).toEqual(flagged);
  });

  it('a file in the wrong slot is read for what it is, and the report says so', () => {
    const r = runCli(['explain', '--client-log', join(PAIR, 'sshd_config'), '--server-log', CLIENT_LOG, '--json']);
    const inputs = json(r).inputs;
    expect(inputs[0]).toMatchObject({ given: '--client-log', kind: 'sshd-config' });
    expect(inputs[0]!.note).toMatch(/given as --client-log, read as sshd_config/);
    expect(inputs[1]).toMatchObject({ given: '--server-log', kind: 'client-log' });
    expect(inputs[1]!.note).toMatch(/given as --server-log, read as OpenSSH client/);
  });

  it('JSON that is no evidence bundle (a logger, a cloud CLI) is read like any text', () => {
    const p = join(tmp, 'log.json');
    writeFileSync(p, '{"level":"error","msg":"dial tcp 192.0.2.49:22: i/o timeout"}\n{"level":"info","msg":"retrying"}\n');
    const r = runCli(['explain', p, '--json']);
    expect(r.stderr).toBe('');
    expect(json(r).inputs[0]!.kind).not.toBe('bundle');
  });

  it('a file nothing in which is recognised says so, and names no cause', () => {
    const p = join(tmp, 'notes.txt');
    writeFileSync(p, 'lorem ipsum\n1234\nfoo bar\n');
    const r = runCli(['explain', '--client-log', p, '--json']);
    expect(r.code).toBe(0);
    expect(json(r).inputs[0]!.note).toMatch(/nothing in it was recognised/);
  });
});
