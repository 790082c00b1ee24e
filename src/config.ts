import { z } from 'zod';
import { ConfigError } from './errors.js';

const topicName = z
  .string()
  .regex(
    /^[a-zA-Z0-9._-]{1,249}$/,
    'a Kafka topic name: 1–249 of the characters a-z A-Z 0-9 . _ -',
  );

const bootstrapServers = z
  .string()
  .transform((value) => value.split(',').map((server) => server.trim()))
  .pipe(
    z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'a comma-separated list of host:port')).min(1),
  );

const baseUrl = z
  .string()
  .refine(
    isHttpUrlWithoutQuery,
    'an absolute http(s) URL without query or fragment, e.g. https://openklant.example.nl',
  )
  .transform((value) => value.replace(/\/+$/, ''));

/** A whole number in decimal digits between `min` and `max`, described by `expected` on error. */
function integer(min: number, max: number, expected: string) {
  return z
    .string()
    .regex(/^\d+$/, expected)
    .transform(Number)
    .pipe(z.number().min(min, expected).max(max, expected));
}

/** Environment variables the processor reads, with their defaults. */
const environmentSchema = z.object({
  KAFKA_BOOTSTRAP_SERVERS: bootstrapServers,
  KAFKA_CLIENT_ID: z.string().min(1).default('openklant-zaak-cdc'),
  KAFKA_GROUP_ID: z.string().min(1).default('openklant-zaak-cdc'),
  // The bounds are the brokers' default group.min.session.timeout.ms and
  // group.max.session.timeout.ms; a broker rejects a session timeout outside its own bounds.
  KAFKA_SESSION_TIMEOUT_MS: integer(
    6_000,
    1_800_000,
    'a whole number of milliseconds from 6000 to 1800000',
  ).default(30_000),
  KAFKA_TOPIC_REPLICATION_FACTOR: integer(1, 32_767, 'a whole number from 1').optional(),
  // The upper bound is the brokers' default transaction.max.timeout.ms.
  KAFKA_TRANSACTION_TIMEOUT_MS: integer(
    1_000,
    900_000,
    'a whole number of milliseconds from 1000 to 900000',
  ).default(60_000),
  ONDERWERPOBJECT_TOPIC: topicName.default('openklant.public.klantinteracties_onderwerpobject'),
  KLANTCONTACT_TOPIC: topicName.default('openklant.public.klantinteracties_klantcontact'),
  CLOUDEVENTS_TOPIC: topicName.default('openklant.zaak-cloudevents'),
  STATE_CHANGELOG_TOPIC: topicName.optional(),
  DEAD_LETTER_TOPIC: topicName.optional(),
  CLOUDEVENTS_SOURCE: z
    .string()
    .trim()
    .min(1, 'a non-empty URI reference, e.g. urn:nld:oin:01823288444:openklant')
    .refine((value) => !/\s/.test(value), 'a URI reference without whitespace'),
  OPENKLANT_BASE_URL: baseUrl,
  LABEL_MAX_LENGTH: integer(10, 1_000, 'a whole number of characters from 10 to 1000').default(80),
  LABEL_WAIT_MS: integer(0, 600_000, 'a whole number of milliseconds from 0 to 600000').default(
    30_000,
  ),
  INPUT_FORMAT: z.enum(['json', 'avro']).default('json'),
  SCHEMA_REGISTRY_URL: baseUrl.optional(),
  SNAPSHOT_EMITS_EVENTS: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  METRICS_PORT: integer(0, 65_535, 'a port number from 0 to 65535').default(9464),
});

/** The processor's variables, of which `dead-letter replay` needs no event settings. */
const processorEnvironmentSchema = environmentSchema.superRefine((env, context) => {
  if (env.INPUT_FORMAT === 'avro' && env.SCHEMA_REGISTRY_URL === undefined) {
    context.addIssue({
      code: 'custom',
      path: ['SCHEMA_REGISTRY_URL'],
      message: 'the URL of the Confluent-compatible registry API, required with INPUT_FORMAT=avro',
    });
  }
});

const replayEnvironmentSchema = environmentSchema.partial({
  CLOUDEVENTS_SOURCE: true,
  OPENKLANT_BASE_URL: true,
});

export interface Config {
  kafka: {
    brokers: string[];
    clientId: string;
    groupId: string;
    sessionTimeoutMs: number;
    /** How long the broker lets a transaction stay open before it aborts it. */
    transactionTimeoutMs: number;
    /** Unset means the smaller of 3 and the number of brokers. */
    replicationFactor: number | undefined;
  };
  topics: {
    input: string;
    klantcontact: string;
    output: string;
    changelog: string;
    deadLetter: string;
  };
  events: {
    source: string;
    openKlantBaseUrl: string;
    /** Whether a snapshot read of a linked row without state emits gekoppeld. */
    snapshotEmitsEvents: boolean;
  };
  labels: {
    /** Open Zaak's relatieomschrijving stores at most 80 characters. */
    maxLength: number;
    /** How long a batch waits for a klantcontact its labels need. */
    waitMs: number;
  };
  /**
   * How the input records are encoded: Kafka Connect's JsonConverter, or Avro in the Confluent
   * wire format with the schemas at `schemaRegistryUrl` (set whenever the format is avro).
   */
  input: { format: 'json' | 'avro'; schemaRegistryUrl: string | undefined };
  logLevel: string;
  /** `port: 0` turns the metrics endpoint off. */
  metrics: { host: string; port: number };
}

/**
 * Reads the configuration from environment variables. Throws a ConfigError that names each
 * invalid variable, its value and the expected form, one per line.
 */
export function loadConfig(environment: NodeJS.ProcessEnv = process.env): Config {
  const env = parseEnvironment(processorEnvironmentSchema, environment);
  return {
    ...commonSettingsOf(env),
    input: { format: env.INPUT_FORMAT, schemaRegistryUrl: env.SCHEMA_REGISTRY_URL },
    events: {
      source: env.CLOUDEVENTS_SOURCE,
      openKlantBaseUrl: env.OPENKLANT_BASE_URL,
      snapshotEmitsEvents: env.SNAPSHOT_EMITS_EVENTS,
    },
    labels: { maxLength: env.LABEL_MAX_LENGTH, waitMs: env.LABEL_WAIT_MS },
    metrics: { host: env.METRICS_HOST, port: env.METRICS_PORT },
  };
}

/** The settings that `dead-letter replay` uses: no event settings and no metrics endpoint. */
export type ReplayConfig = Pick<Config, 'kafka' | 'topics' | 'logLevel'>;

/**
 * Reads the configuration of `dead-letter replay`. It checks the same variables as loadConfig,
 * but CLOUDEVENTS_SOURCE and OPENKLANT_BASE_URL may be unset, because re-feeding records does not
 * build events. Throws a ConfigError like loadConfig.
 */
export function loadReplayConfig(environment: NodeJS.ProcessEnv = process.env): ReplayConfig {
  return commonSettingsOf(parseEnvironment(replayEnvironmentSchema, environment));
}

function parseEnvironment<Schema extends z.ZodType>(
  schema: Schema,
  environment: NodeJS.ProcessEnv,
): z.output<Schema> {
  const present = Object.fromEntries(
    Object.entries(environment).filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const problems = new Map<string, string>();
    for (const issue of parsed.error.issues) {
      const variable = String(issue.path[0]);
      if (!problems.has(variable)) {
        problems.set(variable, describeProblem(variable, environment[variable], issue));
      }
    }
    throw new ConfigError([...problems.keys()][0]!, [...problems.values()].join('\n'));
  }
  return parsed.data;
}

function commonSettingsOf(env: z.output<typeof replayEnvironmentSchema>): ReplayConfig {
  return {
    kafka: {
      brokers: env.KAFKA_BOOTSTRAP_SERVERS,
      clientId: env.KAFKA_CLIENT_ID,
      groupId: env.KAFKA_GROUP_ID,
      sessionTimeoutMs: env.KAFKA_SESSION_TIMEOUT_MS,
      transactionTimeoutMs: env.KAFKA_TRANSACTION_TIMEOUT_MS,
      replicationFactor: env.KAFKA_TOPIC_REPLICATION_FACTOR,
    },
    topics: {
      input: env.ONDERWERPOBJECT_TOPIC,
      klantcontact: env.KLANTCONTACT_TOPIC,
      output: env.CLOUDEVENTS_TOPIC,
      changelog: env.STATE_CHANGELOG_TOPIC ?? `${env.KAFKA_GROUP_ID}-link-state-changelog`,
      deadLetter: env.DEAD_LETTER_TOPIC ?? `${env.KAFKA_GROUP_ID}-dead-letter`,
    },
    logLevel: env.LOG_LEVEL,
  };
}

function describeProblem(
  variable: string,
  value: string | undefined,
  issue: z.core.$ZodIssue,
): string {
  if (value === undefined || value === '') {
    const expected = issue.code === 'custom' ? issue.message : 'it to be set';
    return `Environment variable ${variable} is not set; expected ${expected}.`;
  }
  const expected =
    issue.code === 'invalid_value'
      ? `one of ${issue.values.map((allowed) => String(allowed)).join(', ')}`
      : issue.message;
  return `Environment variable ${variable} is "${value}"; expected ${expected}.`;
}

function isHttpUrlWithoutQuery(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && !url.search && !url.hash;
  } catch {
    return false;
  }
}
