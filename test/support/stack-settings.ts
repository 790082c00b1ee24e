import { readFileSync } from 'node:fs';

/** Where the tests find Kafka, Kafka Connect, PostgreSQL and the Debezium topics. */
export interface StackSettings {
  kafkaBootstrapServers: string;
  connectUrl: string;
  postgres: { host: string; port: number; user: string; password: string; database: string };
  connectorName: string;
  onderwerpobjectTopic: string;
  klantcontactTopic: string;
  /**
   * The schema registry's Confluent-compatible API and Apicurio's own API, which its Connect
   * converter uses. Set only for a stack with a registry (`STACK_REGISTRY=apicurio`).
   */
  schemaRegistryUrl: string | undefined;
  apicurioRegistryUrl: string | undefined;
  /** How the stack was found: given by environment variables, testcontainers, or deploy/local. */
  origin: 'environment' | 'testcontainers' | 'deploy-local';
}

/** Parses `KEY=value` lines, as deploy/local writes its env file. */
export function parseEnvFile(path: string): Record<string, string> {
  const entries: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match) {
      entries[match[1]!] = match[2]!.replace(/^"(.*)"$/, '$1');
    }
  }
  return entries;
}

/** Builds the settings from variables named as in deploy/local's env file. */
export function settingsFromVariables(
  variables: Record<string, string | undefined>,
  origin: StackSettings['origin'],
): StackSettings {
  const get = (name: string, fallback?: string): string => {
    const value = variables[name] ?? fallback;
    if (value === undefined || value === '') {
      throw new Error(
        `${name} is not set. With KAFKA_BOOTSTRAP_SERVERS given, the tests also need ` +
          'KAFKA_CONNECT_URL and PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE.',
      );
    }
    return value;
  };
  const prefix = get('DEBEZIUM_TOPIC_PREFIX', 'openklant');
  return {
    kafkaBootstrapServers: get('KAFKA_BOOTSTRAP_SERVERS'),
    connectUrl: get('KAFKA_CONNECT_URL'),
    postgres: {
      host: get('PGHOST'),
      port: Number(get('PGPORT')),
      user: get('PGUSER'),
      password: get('PGPASSWORD'),
      database: get('PGDATABASE'),
    },
    connectorName: get('DEBEZIUM_CONNECTOR_NAME', 'openklant-postgres'),
    onderwerpobjectTopic: get(
      'ONDERWERPOBJECT_TOPIC',
      `${prefix}.public.klantinteracties_onderwerpobject`,
    ),
    klantcontactTopic: get('KLANTCONTACT_TOPIC', `${prefix}.public.klantinteracties_klantcontact`),
    schemaRegistryUrl: variables.SCHEMA_REGISTRY_URL || undefined,
    apicurioRegistryUrl: variables.APICURIO_REGISTRY_URL || undefined,
    origin,
  };
}
