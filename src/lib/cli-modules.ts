import {readFileSync, realpathSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import debug from 'debug'

// The CLI's own modules, shared with the CLI that runs the plugin. Installed with `heroku plugins:install`,
// the plugin has its own copies of @heroku-cli/command (whose credential telemetry imports @sentry/node:
// 0.5-0.9 s cold), @oclif/core and @heroku/heroku-cli-util; the CLI has already loaded its own. So the
// commands take all three from the CLI's installation when it has versions our dependency ranges accept,
// and from our own node_modules otherwise (an older CLI, `bin/run.js`, a linked checkout: there they are
// the same files anyway). All three come from one place, because heroku-cli-util checks
// `instanceof HerokuAPIError` against the @heroku-cli/command it resolves: it must be the one that made
// `this.heroku`. HEROKU_SAFE_ROLLBACK_OWN_MODULES=1 forces our own copies.

export type CliUtils = typeof import('@heroku/heroku-cli-util/utils')

const log = debug('safe-rollback:modules')
const pluginRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

// The nearest package.json above a resolved file, with the package's name.
function packageOf(file: string, name: string): {version: string} | undefined {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    try {
      const found = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
      if (found.name === name) return found
    } catch {}
  }
}

// `^13.2.0` accepts 13.2.0 up to, not including, 14.0.0 (0.x ranges are not used here).
export function satisfiesCaret(version: string, range: string): boolean {
  const have = /^(\d+)\.(\d+)\.(\d+)$/.exec(version)
  const want = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(range)
  if (!have || !want || want[1] === '0') return false
  const [a, b] = [have.slice(1).map(Number), want.slice(1).map(Number)]
  return a[0] === b[0] && (a[1] > b[1] || (a[1] === b[1] && a[2] >= b[2]))
}

export interface Located {command: string, core: string, utils: string}

// Where the CLI that started this process keeps the three modules, when their versions fit ours.
function locateInHost(): Located | undefined {
  const main = process.argv[1]
  if (!main || process.env.HEROKU_SAFE_ROLLBACK_OWN_MODULES === '1') return undefined
  try {
    const ranges: Record<string, string> = JSON.parse(readFileSync(join(pluginRoot, 'package.json'), 'utf8')).dependencies
    const host = createRequire(realpathSync(main))
    const command = host.resolve('@heroku-cli/command')
    const core = createRequire(command).resolve('@oclif/core')
    const utils = host.resolve('@heroku/heroku-cli-util/utils')
    // heroku-cli-util must see the same @heroku-cli/command (its instanceof checks).
    if (createRequire(utils).resolve('@heroku-cli/command') !== command) return undefined
    for (const [name, file] of [['@heroku-cli/command', command], ['@oclif/core', core], ['@heroku/heroku-cli-util', utils]]) {
      const version = packageOf(file, name)?.version
      if (!version || !satisfiesCaret(version, ranges[name])) {
        log('the CLI has %s %s, outside %s: using our own copies', name, version, ranges[name])
        return undefined
      }
    }
    return {command, core, utils}
  } catch (error) {
    log('the CLI\'s modules were not found (%s): using our own copies', (error as Error).message)
    return undefined
  }
}

export const located = locateInHost()
log(located ? 'using the CLI\'s modules: %o' : 'using our own modules', located)
export const load = <T>(file: string | undefined, own: () => Promise<T>): Promise<T> => file ? import(pathToFileURL(file).href) : own()

let utils: Promise<CliUtils> | undefined
// heroku-cli-util's resolvers and Postgres helpers, loaded on the paths that need them.
export const cliUtils = (): Promise<CliUtils> => (utils ??= load<CliUtils>(located?.utils, () => import('@heroku/heroku-cli-util/utils')))

// The copies of `debug` that the CLI's HTTP client, oclif and heroku-cli-util log through, when they are
// the CLI's: with DEBUG set, secrets.ts routes them through redaction as it does our own.
export function debugModuleFiles(): string[] {
  if (!located) return []
  const files = new Set<string>()
  const resolve = (from: string, ...chain: string[]) => {
    try {
      files.add(chain.reduce((at, name) => createRequire(at).resolve(name), from))
    } catch {}
  }
  resolve(located.command, '@heroku/http-call', 'debug')
  resolve(located.command, 'debug')
  resolve(located.core, 'debug')
  resolve(located.utils, 'debug')
  return [...files]
}

// Whether the CLI's modules are used (for tests and `DEBUG=safe-rollback:modules`).
export const sharedWithCli = located !== undefined
