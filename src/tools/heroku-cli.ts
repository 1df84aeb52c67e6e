import {execFileSync, spawn} from 'node:child_process'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import type {Sandbox} from '../sandbox/index.js'

// The real `heroku` CLI (the npm package), isolated from the machine's own login and config,
// pointed at a sandbox, with this plugin linked.

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const bin = join(repoRoot, 'node_modules', '.bin', 'heroku')

// `npm pack` of this checkout into a folder: the tarball users would install. Returns its path.
export const packPlugin = (destination: string): string =>
  join(destination, execFileSync('npm', ['pack', '--silent', '--pack-destination', destination], {cwd: repoRoot, encoding: 'utf8'}).trim())

export interface Result {
  code: number
  stdout: string
  stderr: string
}

export interface RunOptions {
  env?: Record<string, string>
  input?: string
  cwd?: string
  // Print what the CLI prints, as it prints it (the demo); otherwise only collect it (the tests).
  echo?: boolean
  // Send a signal (Ctrl-C is SIGINT) once the condition holds, as a user would mid-flow.
  signalAfter?: Signal
  // Several, in order: each is sent once its condition holds after the one before was sent.
  signals?: Signal[]
}

export interface Signal {
  // Polled every 25 ms, with what the CLI printed so far.
  when: (printed: {stdout: string, stderr: string}) => boolean
  signal: NodeJS.Signals
}

export class HerokuCli {
  readonly home = mkdtempSync(join(tmpdir(), 'heroku-cli-home-'))
  private linked?: Promise<void>

  constructor(private readonly sandbox: Sandbox) {}

  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      HOME: this.home,
      XDG_CONFIG_HOME: join(this.home, 'config'),
      XDG_DATA_HOME: join(this.home, 'data'),
      XDG_CACHE_HOME: join(this.home, 'cache'),
      HEROKU_SKIP_NEW_VERSION_CHECK: 'true',
      HEROKU_DISABLE_AUTOUPDATE: '1',
      HEROKU_SKIP_ANALYTICS: '1',
      DISABLE_TELEMETRY: 'true',
      OCLIF_DISABLE_LINKED_ESM_WARNING: '1',
      NO_COLOR: '1',
      ...this.sandbox.env,
      ...extra,
    }
  }

  // Runs the CLI as it ships, without linking this plugin.
  run(args: string[], options: RunOptions = {}): Promise<Result> {
    return new Promise((resolve, reject) => {
      const child = spawn(bin, args, {env: this.env(options.env), cwd: options.cwd ?? this.home, stdio: ['pipe', 'pipe', 'pipe']})
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', chunk => {
        stdout += chunk
        if (options.echo) process.stdout.write(chunk)
      })
      child.stderr.on('data', chunk => {
        stderr += chunk
        if (options.echo) process.stderr.write(chunk)
      })
      const pending = [...(options.signalAfter ? [options.signalAfter] : []), ...(options.signals ?? [])]
      const watch = pending.length === 0 ? undefined : setInterval(() => {
        if (!pending[0].when({stdout, stderr})) return
        child.kill(pending.shift()!.signal)
        if (pending.length === 0) clearInterval(watch)
      }, 25)
      child.on('error', reject)
      child.on('close', (code, signal) => {
        if (watch) clearInterval(watch)
        resolve({code: code ?? (signal ? 128 + ({SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15}[signal as string] ?? 15) : 1), stdout, stderr})
      })
      if (options.input !== undefined) child.stdin.write(options.input)
      child.stdin.end()
    })
  }

  // Runs the CLI with this plugin linked in a pseudo-terminal (util-linux `script`), answering each
  // prompt once its text appears, as a person at a terminal would.
  async interactive(args: string[], answers: {waitFor: RegExp, send: string}[], options: RunOptions = {}): Promise<Result> {
    await this.link()
    const quoted = [bin, ...args].map(arg => `'${arg.replace(/'/g, "'\\''")}'`).join(' ')
    return new Promise((resolve, reject) => {
      const child = spawn('script', ['-qefc', `stty cols 200; ${quoted}`, '/dev/null'], {
        env: this.env({TERM: 'xterm', ...options.env}), cwd: options.cwd ?? this.home, stdio: ['pipe', 'pipe', 'pipe'],
      })
      let screen = ''
      let next = 0
      let seen = 0
      child.stdout.on('data', chunk => {
        screen += chunk
        const answer = answers[next]
        if (answer && answer.waitFor.test(screen.slice(seen))) {
          seen = screen.length
          next++
          setTimeout(() => child.stdin.write(answer.send), 100)
        }
      })
      child.on('error', reject)
      child.on('close', code => {
        child.stdin.end()
        resolve({code: code ?? 1, stdout: screen, stderr: ''})
      })
    })
  }

  link(): Promise<void> {
    this.linked ??= this.run(['plugins:link', repoRoot, '--no-install']).then(result => {
      if (result.code !== 0) throw new Error(`heroku plugins:link failed: ${result.stderr}`)
    })
    return this.linked
  }

  // Installs a packed tarball of this plugin the way users install it (`heroku plugins:install`),
  // instead of linking the checkout; afterwards `run` uses the installed copy.
  async install(tarball: string): Promise<void> {
    const result = await this.run(['plugins:install', `file:${tarball}`])
    if (result.code !== 0) throw new Error(`heroku plugins:install failed: ${result.stderr}`)
  }

  // Runs the CLI with this plugin linked.
  async heroku(args: string[], options: RunOptions = {}): Promise<Result> {
    await this.link()
    return this.run(args, options)
  }

  // Runs the CLI with this plugin linked under GNU time, for the peak memory of the process as users
  // start it (benchmarks). Not spawnSync: the sandbox answers the CLI from this very process.
  async measured(args: string[]): Promise<Result & {peakRssBytes: number}> {
    await this.link()
    return new Promise((resolve, reject) => {
      const child = spawn('/usr/bin/time', ['-f', 'maxrss-kb %M', bin, ...args], {env: this.env(), cwd: this.home})
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', chunk => (stdout += chunk))
      child.stderr.on('data', chunk => (stderr += chunk))
      child.on('error', reject)
      child.on('close', code => resolve({code: code ?? 1, stdout, stderr, peakRssBytes: Number(/maxrss-kb (\d+)/.exec(stderr)?.[1]) * 1024}))
    })
  }
}
