import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { StackSettings } from './stack-settings.js';

const root = resolve(import.meta.dirname, '../..');

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** Settings of one processor group under test: its own group id and output topic. */
export interface ProcessorSettings {
  groupId: string;
  outputTopic: string;
  inputTopic: string;
  source: string;
  openKlantBaseUrl: string;
  extra?: Record<string, string>;
}

export function newProcessorSettings(stack: StackSettings, name: string): ProcessorSettings {
  const suffix = randomUUID().slice(0, 8);
  return {
    groupId: `test-${name}-${suffix}`,
    outputTopic: `test-${name}-${suffix}.cloudevents`,
    inputTopic: stack.onderwerpobjectTopic,
    source: 'urn:nld:oin:01823288444:openklant',
    openKlantBaseUrl: 'http://open-klant.local:8000',
  };
}

/** The processor's CLI in a child process, as it runs in production. */
export class ProcessorProcess {
  readonly logs: LogLine[] = [];
  readonly stderr: string[] = [];
  private readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined;
  private readonly waiters = new Set<() => void>();

  private constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        this.logs.push(JSON.parse(line) as LogLine);
      } catch {
        this.stderr.push(line);
      }
      for (const wake of this.waiters) {
        wake();
      }
    });
    createInterface({ input: child.stderr! }).on('line', (line) => this.stderr.push(line));
    this.exited = new Promise((done) =>
      child.on('exit', (code) => {
        this.exitCode = code;
        done(code);
        for (const wake of this.waiters) {
          wake();
        }
      }),
    );
  }

  static start(stack: StackSettings, settings: ProcessorSettings): ProcessorProcess {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'run'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH,
        KAFKA_BOOTSTRAP_SERVERS: stack.kafkaBootstrapServers,
        KAFKA_GROUP_ID: settings.groupId,
        KAFKA_CLIENT_ID: settings.groupId,
        KAFKA_SESSION_TIMEOUT_MS: '10000',
        ONDERWERPOBJECT_TOPIC: settings.inputTopic,
        CLOUDEVENTS_TOPIC: settings.outputTopic,
        CLOUDEVENTS_SOURCE: settings.source,
        OPENKLANT_BASE_URL: settings.openKlantBaseUrl,
        METRICS_PORT: '0',
        ...settings.extra,
      },
    });
    return new ProcessorProcess(child);
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Waits for a log line that matches, failing with the process output after the timeout. */
  async waitForLog(match: (line: LogLine) => boolean, timeoutMs = 90_000): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.logs.find(match);
      if (found) {
        return found;
      }
      if (this.exitCode !== undefined) {
        throw new Error(`Processor exited with ${this.exitCode}. Output:\n${this.output()}`);
      }
      if (Date.now() > deadline) {
        throw new Error(`No matching log line in ${timeoutMs} ms. Output:\n${this.output()}`);
      }
      await new Promise<void>((wake) => {
        this.waiters.add(wake);
        setTimeout(wake, 500);
      }).finally(() => this.waiters.clear());
    }
  }

  /** Waits until the processor has joined the group and restored its partitions' state. */
  async waitUntilAssigned(): Promise<LogLine> {
    return this.waitForLog((line) => line.msg === 'partition assignment changed');
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill(signal);
    }
    return this.exited;
  }

  output(): string {
    return [...this.logs.map((line) => JSON.stringify(line)), ...this.stderr].join('\n');
  }
}
