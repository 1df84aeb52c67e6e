import {spawn} from 'node:child_process'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {sandbox} from './sandbox.js'

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const bin = join(root, 'node_modules', '.bin', 'heroku')
const home = mkdtempSync(join(tmpdir(), 'heroku-cli-home-'))
let linked: Promise<void> | undefined

export interface Result {
  code: number
  stdout: string
  stderr: string
}

// The environment of a real `heroku` CLI that is isolated from the machine's own config and login,
// and pointed at the sandbox.
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_DATA_HOME: join(home, 'data'),
    XDG_CACHE_HOME: join(home, 'cache'),
    HEROKU_SKIP_NEW_VERSION_CHECK: 'true',
    HEROKU_SKIP_ANALYTICS: '1',
    DISABLE_TELEMETRY: 'true',
    OCLIF_DISABLE_LINKED_ESM_WARNING: '1',
    HEROKU_UPDATE_INSTANCE: 'false',
    NO_COLOR: '1',
    FORCE_COLOR: '0',
    ...sandbox().env,
    ...extra,
  }
}

export function run(args: string[], options: {env?: Record<string, string>, input?: string, cwd?: string} = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, {env: cliEnv(options.env), cwd: options.cwd ?? home, stdio: ['pipe', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', chunk => (stdout += chunk))
    child.stderr.on('data', chunk => (stderr += chunk))
    child.on('error', reject)
    child.on('close', code => resolve({code: code ?? 1, stdout, stderr}))
    if (options.input !== undefined) child.stdin.write(options.input)
    child.stdin.end()
  })
}

// Links this plugin into the isolated CLI once per test run.
export function linkPlugin(): Promise<void> {
  linked ??= run(['plugins:link', root, '--no-install']).then(result => {
    if (result.code !== 0) throw new Error(`heroku plugins:link failed: ${result.stderr}`)
  })
  return linked
}

// Runs the real `heroku` CLI with this plugin linked.
export async function heroku(args: string[], options: {env?: Record<string, string>, input?: string, cwd?: string} = {}): Promise<Result> {
  await linkPlugin()
  return run(args, options)
}
