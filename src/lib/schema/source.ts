import {execFile} from 'node:child_process'
import {posix} from 'node:path'
import {promisify} from 'node:util'

// A release's Prisma project as its code had it: the schema files and the migrations folder, read from
// the app's git repository at the release's commit (nothing checked out), or else from the release's
// slug, streamed, keeping only the Prisma files.

export interface ProjectAt {
  from: 'git' | 'slug'
  schemas: {path: string, text: string}[]
  // The migration folder names, oldest first, each with its migration.sql when it was read.
  migrations: Map<string, string | undefined>
}

// A project's files at one moment: a commit of the repository, or the files kept from a slug.
interface Tree {
  read(file: string): Promise<string | undefined>
  // The entries of a folder, folders ending in '/'; undefined when there is no such folder.
  list(dir: string): Promise<string[] | undefined>
}

const run = promisify(execFile)
const git = (cwd: string, args: string[]) => run('git', args, {cwd, maxBuffer: 16 * 1024 * 1024}).then(r => r.stdout, () => undefined)

function gitTree(cwd: string, commit: string): Tree {
  return {
    read: file => git(cwd, ['show', `${commit}:./${file}`]),
    list: async dir => (await git(cwd, ['ls-tree', `${commit}:./${dir}`]))?.split('\n').filter(Boolean)
      .map(line => /^\d+ (\w+) \w+\t(.*)$/.exec(line)!).map(([, type, name]) => type === 'tree' ? `${name}/` : name),
  }
}

export async function fromGit(cwd: string, commit: string, readSqlOf?: (name: string) => boolean): Promise<ProjectAt | undefined> {
  if (await git(cwd, ['cat-file', '-e', `${commit}^{commit}`]) === undefined) return undefined
  return readProject(gitTree(cwd, commit), 'git', readSqlOf)
}

const CONFIG_FILES = ['prisma.config.ts', 'prisma.config.mts', 'prisma.config.js', 'prisma.config.mjs', 'prisma.config.cjs', '.config/prisma.ts']
const DEFAULT_SCHEMAS = ['prisma/schema.prisma', 'schema.prisma']

// Where Prisma finds the schema and the migrations: prisma.config.ts, package.json's prisma.schema,
// then prisma/schema.prisma. Only literal strings of the config file are read, never its code run.
async function readProject(tree: Tree, from: ProjectAt['from'], readSqlOf: (name: string) => boolean = () => true): Promise<ProjectAt | undefined> {
  let schema: string | undefined
  let migrationsDir: string | undefined
  for (const file of CONFIG_FILES) {
    const text = await tree.read(file)
    if (text === undefined) continue
    const base = posix.dirname(file)
    const migrations = /migrations\s*:\s*\{[^}]*?\bpath\s*:\s*(['"`])([^'"`]+)\1/s.exec(text)?.[2]
    if (migrations) migrationsDir = posix.join(base, migrations)
    const found = /\bschema\s*:\s*(['"`])([^'"`]+)\1/.exec(text)?.[2]
    if (found) schema = posix.join(base, found)
    break
  }
  if (!schema) {
    const manifest = await tree.read('package.json')
    try {
      schema = manifest ? (JSON.parse(manifest) as {prisma?: {schema?: string}}).prisma?.schema : undefined
    } catch {}
  }
  const candidates = schema ? [posix.normalize(schema)] : DEFAULT_SCHEMAS
  for (const candidate of candidates) {
    const folder = await tree.list(candidate)
    const files = folder
      ? folder.filter(name => name.endsWith('.prisma')).map(name => posix.join(candidate, name))
      : [candidate]
    const schemas = (await Promise.all(files.map(async file => ({path: file, text: await tree.read(file)}))))
      .filter((s): s is {path: string, text: string} => s.text !== undefined)
    if (schemas.length === 0) continue
    const dir = migrationsDir ?? posix.join(folder ? candidate : posix.dirname(candidate), 'migrations')
    const names = ((await tree.list(dir)) ?? []).filter(name => name.endsWith('/')).map(name => name.slice(0, -1)).sort()
    const migrations = new Map<string, string | undefined>()
    for (const name of names) migrations.set(name, readSqlOf(name) ? await tree.read(posix.join(dir, name, 'migration.sql')) : undefined)
    for (const [name, sql] of migrations) if (sql === undefined && readSqlOf(name)) migrations.delete(name)
    return {from, schemas, migrations}
  }
  return undefined
}

// Slug files worth keeping: what readProject may ask for. Anything else in the archive is skipped unread.
const KEPT = /(^|\/)(package\.json|prisma\.config\.[mc]?[jt]s|prisma\.ts|[^/]+\.prisma|migration\.sql)$|(^|\/)migrations\/[^/]+\/$/
const MAX_FILE = 4 * 1024 * 1024
const MAX_KEPT = 64 * 1024 * 1024

// The slug's archive (tar.gz, paths under ./app/) is streamed through once; memory holds only the kept files.
export async function fromSlug(archiveUrl: string, signal: AbortSignal | undefined, readSqlOf?: (name: string) => boolean): Promise<ProjectAt | undefined> {
  const response = await fetch(archiveUrl, {signal})
  if (!response.ok || !response.body) throw new Error(`the slug's archive could not be read (HTTP ${response.status})`)
  const files = await keptFiles(response.body)
  const dirs = new Set([...files.keys()].flatMap(file => file.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'))))
  const tree: Tree = {
    read: async file => files.get(posix.normalize(file)),
    async list(dir) {
      const prefix = posix.normalize(dir) + '/'
      if (!dirs.has(posix.normalize(dir))) return undefined
      const entries = new Set<string>()
      for (const name of [...files.keys(), ...dirs]) {
        if (!name.startsWith(prefix)) continue
        const rest = name.slice(prefix.length)
        entries.add(rest.includes('/') ? rest.slice(0, rest.indexOf('/') + 1) : (dirs.has(name) ? `${rest}/` : rest))
      }
      return [...entries]
    },
  }
  return readProject(tree, 'slug', readSqlOf)
}

async function keptFiles(body: ReadableStream<Uint8Array>): Promise<Map<string, string>> {
  const [{extract}, {createGunzip}, {Readable}, {pipeline}] = await Promise.all([
    import('tar-stream'), import('node:zlib'), import('node:stream'), import('node:stream/promises'),
  ])
  const files = new Map<string, string>()
  let kept = 0
  const reader = extract()
  const reading = (async () => {
    for await (const entry of reader) {
      const name = entry.header.name.replace(/^\.?\/?app\//, '')
      if (entry.header.type === 'file' && KEPT.test(name) && entry.header.size! <= MAX_FILE && kept + entry.header.size! <= MAX_KEPT) {
        const chunks: Buffer[] = []
        for await (const chunk of entry) chunks.push(chunk as Buffer)
        kept += entry.header.size!
        files.set(posix.normalize(name), Buffer.concat(chunks).toString('utf8'))
      } else {
        entry.resume()
      }
    }
  })()
  await Promise.all([pipeline(Readable.fromWeb(body as any), createGunzip(), reader), reading])
  return files
}
