import {HerokuCli, RunOptions, Result} from '../../src/tools/heroku-cli.js'
import {sandbox} from './sandbox.js'

export type {Result} from '../../src/tools/heroku-cli.js'
export {repoRoot as root} from '../../src/tools/heroku-cli.js'

// One isolated CLI per sandbox: with --parallel a worker runs several files, each with a sandbox of its own.
let cli: {for: ReturnType<typeof sandbox>, cli: HerokuCli} | undefined
const current = () => {
  if (cli?.for !== sandbox()) cli = {for: sandbox(), cli: new HerokuCli(sandbox())}
  return cli.cli
}

// The real `heroku` CLI as it ships (no plugin linked).
export const run = (args: string[], options?: RunOptions): Promise<Result> => current().run(args, options)

// Tests whose subject is not the health watch run without it (an app of the sandbox has no traffic
// unless its test gives it some); test/safe-rollback-health.test.ts clears this to watch.
const NO_WATCH = {HEROKU_SAFE_ROLLBACK_SKIP_HEALTH_CHECK: '1'}
const withoutWatch = (options?: RunOptions): RunOptions => ({...options, env: {...NO_WATCH, ...options?.env}})

// The real `heroku` CLI with this plugin linked.
export const heroku = (args: string[], options?: RunOptions): Promise<Result> => current().heroku(args, withoutWatch(options))

export const cliEnv = (extra?: Record<string, string>) => current().env({...NO_WATCH, ...extra})

// Links this plugin into the isolated CLI (once per run).
export const linkPlugin = (): Promise<void> => current().link()

// The real `heroku` CLI with this plugin linked, in a pseudo-terminal, answering prompts.
export const interactive = (args: string[], answers: {waitFor: RegExp, send: string}[], options?: RunOptions): Promise<Result> =>
  current().interactive(args, answers, withoutWatch(options))
