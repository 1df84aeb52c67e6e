import type {Client, ClientConfig} from 'pg'
import {Aborted} from '../abort.js'
import type {Api} from '../api/client.js'
import {statusOf} from '../api/client.js'
import {noSuchApp} from '../api/apps.js'
import {messageOf, Refused} from '../errors.js'
import {cliUtils} from '../cli-modules.js'
import {registerSecrets} from '../secrets.js'
import type {StepContext} from '../runner/step.js'

export interface Connection {
  client: Client
  // `DATABASE_URL (postgresql-shaped-12345)`: never the URL itself.
  label: string
  // The schema Prisma uses: `?schema=` in the URL, else public.
  schema: string
  close(): Promise<void>
}

type SslMode = 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full'

// Connection settings from a database URL. `sslmode` is honoured as libpq does; without one, TLS is tried
// first (Heroku requires it, with certificates Node cannot verify) and plain TCP after (local databases).
export function clientConfigs(url: string, override?: {host: string, port: number}, timeoutMs = 30_000): ClientConfig[] {
  const parsed = new URL(url)
  const mode = (parsed.searchParams.get('sslmode') ?? 'prefer') as SslMode
  const base: ClientConfig = {
    host: override?.host ?? decodeURIComponent(parsed.hostname),
    port: override?.port ?? Number(parsed.port || 5432),
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database: decodeURIComponent(parsed.pathname.slice(1)),
    application_name: 'heroku-safe-rollback',
    connectionTimeoutMillis: timeoutMs,
  }
  const tls = {...base, ssl: mode === 'verify-full' || mode === 'verify-ca' ? {rejectUnauthorized: true} : {rejectUnauthorized: false}}
  const plain = {...base, ssl: false}
  if (mode === 'disable') return [plain]
  if (mode === 'allow') return [plain, tls]
  if (mode === 'prefer') return [tls, plain]
  return [tls]
}

export const schemaOf = (url: string) => new URL(url).searchParams.get('schema') ?? 'public'

const noTlsOnServer = (error: unknown) => /does not support SSL/i.test((error as Error)?.message ?? '')

export async function connectUrl(url: string, override?: {host: string, port: number}, timeoutMs?: number): Promise<Client> {
  const {default: pg} = await import('pg')
  const configs = clientConfigs(url, override, timeoutMs)
  for (const [index, config] of configs.entries()) {
    const client = new pg.Client(config)
    // A connection the server ends between queries must not crash the CLI; the next query reports it.
    client.on('error', () => {})
    try {
      await client.connect()
      return client
    } catch (error) {
      await client.end().catch(() => {})
      if (index === configs.length - 1 || !noTlsOnServer(error)) throw error
    }
  }
  throw new Error('unreachable')
}

export interface AppDatabase {
  url: string
  label: string
  // The config var that holds its URL on the app: DATABASE_URL.
  configVar: string
  schema: string
  details: unknown
}

// The resolver's own config vars are cached for the whole process, by app: a database created or
// promoted since the first resolve would not be found. A run's databases are resolved once each anyway.
const freshConfig = async (heroku: {get<T>(path: string): Promise<{body: T}>}, app: string) =>
  (await heroku.get<Record<string, string>>(`/apps/${encodeURIComponent(app)}/config-vars`)).body

// The app's database, resolved through the API as `heroku pg:psql` does (attachments, config vars,
// bastions of private databases). Every secret in it is registered for redaction at once.
export async function resolveAppDatabase(api: Api, app: string, database = 'DATABASE_URL'): Promise<AppDatabase> {
  const {DatabaseResolver} = await cliUtils()
  const details = await new DatabaseResolver(api.resolverClient, freshConfig).getDatabase(app, database).catch(error => {
    if (statusOf(error) === 404 && /\bapp\b/i.test(messageOf(error))) throw noSuchApp(app)
    throw error
  })
  registerSecrets([details.url, details.password, details.bastionKey])
  if (!details.url || !details.host) throw new Refused(`The config var of ${database} on ${app} holds no database URL.`)
  const label = details.attachment ? `${details.attachment.name} (${details.attachment.addon.name})` : database
  const configVar = details.attachment ? `${details.attachment.name}_URL` : database
  return {url: details.url, label, configVar, schema: schemaOf(details.url), details}
}

// The app's database as a resource the steps of a run share (see StepContext.resource): what a plan's
// step data names by attachment, add-on or config var name, resolved once per run (and again by a
// process that continues the run). `databaseKey` is the key a command seeds with what it resolved.
export const databaseKey = (app: string, name: string) => `database:${app}:${name}`

export const databaseIn = (context: StepContext, app: string, name: string): Promise<AppDatabase> =>
  context.resource(databaseKey(app, name), () => resolveAppDatabase(context.api, app, name))

// A connection with Prisma's schema first on the search path, through the bastion when there is one.
export async function connect(database: AppDatabase, timeoutMs?: number): Promise<Connection> {
  const {getPsqlConfigs, sshTunnel} = await cliUtils()
  const details = database.details as Parameters<typeof getPsqlConfigs>[0]
  let tunnel: {close(): void} | void
  let override: {host: string, port: number} | undefined
  if (details.bastionKey) {
    const {dbTunnelConfig} = getPsqlConfigs(details)
    tunnel = await sshTunnel(details, dbTunnelConfig)
    override = {host: dbTunnelConfig.localHost, port: dbTunnelConfig.localPort}
  }
  const client = await connectUrl(database.url, override, timeoutMs)
  await client.query('SELECT set_config(\'search_path\', $1, false)', [`"${database.schema.replace(/"/g, '""')}"`])
  return {client, label: database.label, schema: database.schema, async close() {
    await client.end().catch(() => {})
    tunnel?.close()
  }}
}

export async function withConnection<T>(database: AppDatabase, work: (connection: Connection) => Promise<T>, timeoutMs?: number): Promise<T> {
  const connection = await connect(database, timeoutMs)
  try {
    return await work(connection)
  } finally {
    await connection.close()
  }
}

// A write in one transaction that Ctrl-C can stop: when `writeSignal` fires (after the runner's moment of
// grace) the connection is closed, which makes PostgreSQL roll the transaction back.
export function withInterruptibleConnection<T>(database: AppDatabase, writeSignal: AbortSignal, work: (connection: Connection) => Promise<T>): Promise<T> {
  return withConnection(database, async connection => {
    const cut = () => void connection.close()
    writeSignal.addEventListener('abort', cut, {once: true})
    try {
      return await work(connection)
    } catch (error) {
      if (writeSignal.aborted) throw new Aborted()
      throw error
    } finally {
      writeSignal.removeEventListener('abort', cut)
    }
  })
}

