import type {Sandbox} from './index.js'
import type {Addon, App} from './state.js'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR
const at = (msAgo: number) => new Date(Date.now() - msAgo).toISOString()

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

// An app whose last deploy broke it, the way the runbook's `heroku releases` example shows it:
// v50-style history with a good deploy three hours ago, then a bad deploy and a config change.
export async function seedBrokenApp(sandbox: Sandbox, name: string, options: BrokenAppOptions = {}): Promise<BrokenApp> {
  const {state} = sandbox
  const app = sandbox.createApp(name)
  const releaseCommand = options.releaseCommand === undefined ? 'npx prisma migrate deploy' : options.releaseCommand
  app.formation.push(
    {id: 'f-web', type: 'web', quantity: 2, size: 'Standard-1X', command: 'npm start'},
    {id: 'f-worker', type: 'worker', quantity: 1, size: 'Standard-1X', command: 'node worker.js'},
  )
  if (releaseCommand) app.formation.push({id: 'f-release', type: 'release', quantity: 0, size: 'Standard-1X', command: releaseCommand})

  const kendra = {id: 'u-kendra', email: 'kendra@example.com'}
  const katie = {id: 'u-katie', email: 'katie@example.com'}
  const shanley = {id: 'u-shanley', email: 'shanley@example.com'}
  state.addRelease(app, {description: 'Initial release', user: katie}, at(30 * DAY))
  app.config = {NODE_ENV: 'production', SESSION_SECRET: 'sandbox-session-secret-value'}
  state.addRelease(app, {description: 'Set NODE_ENV, SESSION_SECRET config vars', user: katie}, at(29 * DAY))

  let database: Addon | undefined
  if (options.withDatabase !== false) {
    database = await sandbox.createPostgres(app, options.plan ?? 'heroku-postgresql:standard-0', 'DATABASE', {createdAt: Date.now() - 20 * DAY, release: false})
    state.addRelease(app, {description: `Attach DATABASE (@ref:${database.name})`, user: katie}, at(20 * DAY))
    await sandbox.sql(database, `
      CREATE TABLE customers (id serial PRIMARY KEY, email text NOT NULL, created_at timestamptz DEFAULT now());
      INSERT INTO customers (email) SELECT 'customer' || g || '@example.com' FROM generate_series(1, 50) g;`)
  }

  const deploy = (commit: string, who: typeof katie, msAgo: number) => {
    const slug = state.addSlug(app, commit, {web: 'npm start', worker: 'node worker.js'}, at(msAgo))
    return state.addRelease(app, {description: `Deploy ${commit.slice(0, 7)}`, slug: {id: slug.id}, user: who}, at(msAgo))
  }
  // A long, ordinary history, so that the broken deploy lands on v51 as in the runbook's example.
  for (let version = 4; version < 50; version++) {
    const commit = (version * 2654435761 % 0xffffffff).toString(16).padStart(8, '0').repeat(5)
    deploy(commit, version % 2 ? katie : kendra, (19 * DAY) - (version * 9 * HOUR))
  }
  deploy('7c35f77a1b2c3d4e5f60718293a4b5c6d7e8f901', katie, 3 * HOUR)
  deploy('de63889f0e1d2c3b4a5968778695a4b3c2d1e0f9', kendra, 7 * MINUTE)
  app.config.AWS_S3_KEY = 'sandbox-aws-s3-key-value'
  state.addRelease(app, {description: 'Set AWS_S3_KEY config vars', user: shanley}, at(5 * MINUTE))

  if (database && options.backupAgeMs !== null) {
    sandbox.capture(database, {scheduled: true, finishedAt: at(options.backupAgeMs ?? 2 * HOUR)})
    await sandbox.settle()
  }
  return {app, database}
}
