import type {Heroku} from '../heroku/heroku.js'
import type {Addon, App} from '../heroku/state.js'
import {loadApp} from '../scenarios/load.js'
import type {AppSpec} from '../scenarios/spec.js'

export interface BrokenAppOptions {
  plan?: string
  // How old the newest good backup is; undefined for no backup at all.
  backupAgeMs?: number | null
  releaseCommand?: string | null
  withDatabase?: boolean
}

export interface BrokenApp {
  app: App
  database?: Addon
}

export const CUSTOMERS_SQL = `CREATE TABLE customers (id serial PRIMARY KEY, email text NOT NULL, created_at timestamptz DEFAULT now());
INSERT INTO customers (email) SELECT 'customer' || g || '@example.com' FROM generate_series(1, 50) g;`

// An app whose last deploy broke it, the way the runbook's `heroku releases` example shows it:
// v50-style history with a good deploy three hours ago, then a bad deploy and a config change. Its
// traffic shows it: the bad deploy's code (v51, and v52 on top of it) fails 40% of its requests, so that
// the rollback `heroku releases:rollback` would choose (v51) lands on broken code too; v50 is healthy.
// sandbox/scenarios/broken-deploy.json is this app with the defaults (a test holds them equal).
export function brokenAppSpec(name: string, options: BrokenAppOptions = {}): AppSpec {
  const releaseCommand = options.releaseCommand === undefined ? 'npx prisma migrate deploy' : options.releaseCommand
  const withDatabase = options.withDatabase !== false
  return {
    name,
    traffic: {perSecond: 5, code: {de63889: {failing: 40}}},
    formation: [
      {type: 'web', quantity: 2, command: 'npm start'},
      {type: 'worker', quantity: 1, command: 'node worker.js'},
      ...(releaseCommand ? [{type: 'release', quantity: 0, command: releaseCommand}] : []),
    ],
    databases: withDatabase ? [{as: 'DATABASE', plan: options.plan ?? 'heroku-postgresql:standard-0'}] : [],
    releases: [
      {description: 'Initial release', by: 'katie@example.com', ago: '30d'},
      {config: {NODE_ENV: 'production', SESSION_SECRET: 'sandbox-session-secret-value'}, by: 'katie@example.com', ago: '29d'},
      ...(withDatabase ? [{attach: 'DATABASE', by: 'katie@example.com', ago: '20d'}] : []),
      // A long, ordinary history, so that the broken deploy lands on v51 as in the runbook's example.
      {deploys: 46, first: '17d12h', every: '9h', by: ['kendra@example.com', 'katie@example.com']},
      {deploy: '7c35f77a1b2c3d4e5f60718293a4b5c6d7e8f901', by: 'katie@example.com', ago: '3h'},
      {deploy: 'de63889f0e1d2c3b4a5968778695a4b3c2d1e0f9', by: 'kendra@example.com', ago: '7m'},
      {config: {AWS_S3_KEY: 'sandbox-aws-s3-key-value'}, by: 'shanley@example.com', ago: '5m'},
    ],
    events: withDatabase ? [
      {sql: CUSTOMERS_SQL},
      ...(options.backupAgeMs === null ? [] : [{backup: {scheduled: true, ago: options.backupAgeMs ?? '2h'}}]),
    ] : [],
  }
}

export async function seedBrokenApp(sandbox: Heroku, name: string, options: BrokenAppOptions = {}): Promise<BrokenApp> {
  const {app, databases} = await loadApp(sandbox, brokenAppSpec(name, options))
  return {app, database: databases.DATABASE}
}
