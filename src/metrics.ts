import { createServer, type Server } from 'node:http';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The processor's Prometheus metrics, in a registry of its own. */
export class Metrics {
  readonly registry = new Registry();

  readonly recordsProcessed = new Counter({
    name: 'openklant_cdc_records_processed_total',
    help: 'Input records processed, by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly eventsPublished = new Counter({
    name: 'openklant_cdc_events_published_total',
    help: 'CloudEvents published to the output topic, by type',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });

  readonly deadLetters = new Counter({
    name: 'openklant_cdc_dead_letters_total',
    help: 'Input records sent to the dead-letter topic, by error code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  readonly missingLabels = new Counter({
    name: 'openklant_cdc_missing_labels_total',
    help: 'New links published with an empty label because their klantcontact was not found',
    registers: [this.registry],
  });

  readonly batchSeconds = new Histogram({
    name: 'openklant_cdc_batch_duration_seconds',
    help: 'Time from receiving a batch to committing its offset',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly restoreSeconds = new Histogram({
    name: 'openklant_cdc_restore_duration_seconds',
    help: 'Time to restore the state of newly assigned partitions from the changelog',
    buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Serves `GET /metrics` in the Prometheus text format. */
  async listen(host: string, port: number): Promise<Server> {
    const server = createServer((request, response) => {
      if (request.method !== 'GET' || request.url !== '/metrics') {
        response.writeHead(404).end();
        return;
      }
      this.registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        (error: Error) => response.writeHead(500).end(error.message),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, resolve);
    });
    return server;
  }
}
