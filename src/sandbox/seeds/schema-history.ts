import {execFileSync} from 'node:child_process'
import {mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {gzipSync} from 'node:zlib'
import type {Heroku} from '../heroku/heroku.js'
import type {Addon} from '../heroku/state.js'
import {deployMigrations} from '../scenarios/prisma.js'
import {BrokenApp, seedBrokenApp} from './broken-app.js'
import {PRISMA_FIXTURE} from './prisma-app.js'

// An app whose code and schema moved together: a git repository with one commit per deploy (each with
// its schema.prisma and migrations folder), one release per commit whose slug holds those files, and
// a database migrated to the newest. The schema gate reads the target's schema from either.

export interface ProjectVersion {
  message: string
  schema: string
  // Added on top of the previous version's migrations.
  migrations?: {name: string, sql: string, down?: string}[]
}

export interface SchemaHistoryOptions {
  // Where the repository is made (emptied first).
  dir: string
  versions: ProjectVersion[]
  // Give each slug its archive, so the schema can be read without the repository (default true).
  archives?: boolean
  seedSql?: string
}

export interface SchemaHistory extends BrokenApp {
  database: Addon
  // The release version of each project version, in order.
  releases: number[]
  commits: string[]
}

// The fixture's five migrations and its schema as of the first of these versions.
export const FIXTURE_SCHEMA = readFileSync(join(PRISMA_FIXTURE, 'prisma', 'schema.prisma'), 'utf8')
export const fixtureMigrations = () => readdirSync(join(PRISMA_FIXTURE, 'prisma', 'migrations'), {withFileTypes: true})
  .filter(entry => entry.isDirectory()).map(entry => entry.name).sort()
  .map(name => ({
    name,
    sql: readFileSync(join(PRISMA_FIXTURE, 'prisma', 'migrations', name, 'migration.sql'), 'utf8'),
    down: readFileSync(join(PRISMA_FIXTURE, 'prisma', 'migrations', name, 'down.sql'), 'utf8'),
  }))

export async function seedSchemaHistory(sandbox: Heroku, name: string, options: SchemaHistoryOptions): Promise<SchemaHistory> {
  const {dir} = options
  rmSync(dir, {recursive: true, force: true})
  mkdirSync(dir, {recursive: true})
  const git = (...args: string[]) => execFileSync('git', args, {cwd: dir, encoding: 'utf8'}).trim()
  git('init', '-q')
  git('config', 'user.email', 'dev@example.com')
  git('config', 'user.name', 'Dev')
  const files = new Map<string, string>([['package.json', '{"name": "schema-history-app", "private": true}\n']])
  const commits: string[] = []
  const archives: Buffer[] = []
  for (const version of options.versions) {
    files.set('prisma/schema.prisma', version.schema)
    for (const migration of version.migrations ?? []) {
      files.set(`prisma/migrations/${migration.name}/migration.sql`, migration.sql)
      if (migration.down) files.set(`prisma/migrations/${migration.name}/down.sql`, migration.down)
    }
    for (const [file, text] of files) {
      mkdirSync(dirname(join(dir, file)), {recursive: true})
      writeFileSync(join(dir, file), text)
    }
    git('add', '-A')
    git('commit', '-qm', version.message)
    commits.push(git('rev-parse', 'HEAD'))
    archives.push(await slugArchive(files))
  }

  const seeded = await seedBrokenApp(sandbox, name, {releaseCommand: 'npx prisma migrate deploy'})
  const {app} = seeded
  const database = seeded.database!
  const releases = commits.map((commit, index) => {
    const slug = sandbox.state.addSlug(app, commit, {web: 'npm start', worker: 'node worker.js'})
    if (options.archives !== false) slug._archive = archives[index]
    return sandbox.state.addRelease(app, {description: `Deploy ${commit.slice(0, 7)}: ${options.versions[index].message}`, slug: {id: slug.id}}).version
  })
  await deployMigrations(sandbox, database, join(dir, 'prisma', 'migrations'))
  if (options.seedSql) await sandbox.sql(database, options.seedSql)
  return {...seeded, database, releases, commits}
}

// Another app on `database` (attached as `as`) whose current release's slug holds a Prisma schema: a worker
// app of the same project, say, whose code meets whatever schema the database is given.
export async function seedAppOnDatabase(sandbox: Heroku, name: string, database: Addon, as: string, schema: string) {
  const app = sandbox.createApp(name)
  sandbox.state.attach(app, database, as)
  const slug = sandbox.state.addSlug(app, 'c0ffee0000000000000000000000000000000000', {worker: 'node jobs.js'})
  slug._archive = await slugArchive(new Map([['package.json', `{"name": "${name}"}\n`], ['prisma/schema.prisma', schema]]))
  const release = sandbox.state.addRelease(app, {description: 'Deploy c0ffee0', slug: {id: slug.id}})
  return {app, release}
}

// A slug as Heroku builds it: a gzipped tar of the app under ./app/ (here, just the project's files).
export async function slugArchive(files: Map<string, string>): Promise<Buffer> {
  const {pack} = await import('tar-stream')
  const archive = pack()
  for (const [file, text] of files) archive.entry({name: `./app/${file}`}, text)
  archive.finalize()
  const chunks: Buffer[] = []
  for await (const chunk of archive) chunks.push(chunk as Buffer)
  return gzipSync(Buffer.concat(chunks))
}

// The history of the demo and the tests: v53 has the fixture's schema, v54 drops User.bio, v55 adds a table.
const WITHOUT_BIO = FIXTURE_SCHEMA.replace(/\n\s*bio\s+String\?/, '')
export const DROP_BIO = {name: '20260601000000_drop_user_bio', sql: 'ALTER TABLE "User" DROP COLUMN "bio";\n', down: 'ALTER TABLE "User" ADD COLUMN "bio" TEXT;\n'}
export const ADD_COMMENTS = {
  name: '20260701000000_add_comments',
  sql: 'CREATE TABLE "Comment" ("id" SERIAL NOT NULL, "body" TEXT NOT NULL, CONSTRAINT "Comment_pkey" PRIMARY KEY ("id"));\n',
  down: 'DROP TABLE "Comment";\n',
}
export const DEMO_HISTORY: ProjectVersion[] = [
  {message: 'fixture schema', schema: FIXTURE_SCHEMA, migrations: fixtureMigrations()},
  {message: 'drop User.bio', schema: WITHOUT_BIO, migrations: [DROP_BIO]},
  {message: 'add comments', schema: `${WITHOUT_BIO}\nmodel Comment {\n  id   Int    @id @default(autoincrement())\n  body String\n}\n`, migrations: [ADD_COMMENTS]},
]
