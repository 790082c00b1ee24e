import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import type { TestProject } from 'vitest/node';
import {
  DockerComposeEnvironment,
  Wait,
  type StartedDockerComposeEnvironment,
} from 'testcontainers';
import { parseEnvFile, settingsFromVariables, type StackSettings } from './stack-settings.js';

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackSettings;
  }
}

const root = resolve(import.meta.dirname, '../..');
let compose: StartedDockerComposeEnvironment | undefined;

/**
 * Finds the real stack for the integration tests: the one KAFKA_BOOTSTRAP_SERVERS and its related
 * variables name; else docker-compose.yml through testcontainers when a Docker engine answers;
 * else deploy/local, which reuses a stack that is already up.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let stack: StackSettings;
  if (process.env.KAFKA_BOOTSTRAP_SERVERS) {
    stack = settingsFromVariables(process.env, 'environment');
  } else if (dockerAnswers()) {
    stack = await startCompose();
  } else {
    stack = startLocalStack();
  }
  project.provide('stack', stack);
  return async () => {
    await compose?.down();
  };
}

function dockerAnswers(): boolean {
  const result = spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 10_000 });
  return result.status === 0;
}

function startLocalStack(): StackSettings {
  const script = resolve(root, 'deploy/local/stack');
  const result = spawnSync(script, ['up'], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) {
    throw new Error(`${script} up failed with exit code ${result.status}; see .stack/logs/.`);
  }
  return settingsFromVariables(parseEnvFile(resolve(root, '.stack/env')), 'deploy-local');
}

/** Starts docker-compose.yml. NOTE: CI here has no Docker engine, so this path is not run here. */
async function startCompose(): Promise<StackSettings> {
  compose = await new DockerComposeEnvironment(root, 'docker-compose.yml')
    .withWaitStrategy('connect-register', Wait.forOneShotStartup())
    .up(['kafka', 'postgres', 'connect', 'connect-register']);
  return settingsFromVariables(
    {
      KAFKA_BOOTSTRAP_SERVERS: '127.0.0.1:29092',
      KAFKA_CONNECT_URL: 'http://127.0.0.1:28083',
      PGHOST: '127.0.0.1',
      PGPORT: '25432',
      PGUSER: 'postgres',
      PGPASSWORD: 'postgres',
      PGDATABASE: 'openklant',
    },
    'testcontainers',
  );
}
