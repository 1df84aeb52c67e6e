import {chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {HerokuCli, repoRoot} from './heroku-cli.js'
import {Delays, Sandbox} from '../sandbox/index.js'
import {loadScenario, LoadedScenario} from '../sandbox/scenarios/load.js'
import {findScenario, scenarioFiles, readScenario, ScenarioSpec} from '../sandbox/scenarios/spec.js'

// `npm run sandbox`: a sandbox with scenarios loaded, for people to rehearse with the real `heroku` CLI
// (the project's own, isolated from their login, with this plugin linked): the export lines that point it
// at the sandbox, what to try first, and one stop() that removes everything the session made.

// Slow enough for a person to press Ctrl-C half-way through a rollback or a restore.
export const REHEARSAL_DELAYS: Delays = {transfer: 4000, releasePhase: 6000, dynoBoot: 3000, provision: 4000, prebootSwitch: 20_000}

export interface SessionOptions {
  // A scenario's name, the path of a scenario file, or `all`.
  scenario: string
  // Keep the sandbox's quick delays (tests) instead of the rehearsal's.
  fast?: boolean
}

export interface Session {
  sandbox: Sandbox
  // Holds the `heroku` wrapper (bin/) and the scenarios' project folders.
  dir: string
  loaded: LoadedScenario[]
  // What to set in a shell for `heroku` to be the isolated CLI talking to the sandbox.
  exports: Record<string, string>
  stop(): Promise<void>
}

export const scenarioList = (): ScenarioSpec[] => scenarioFiles().map(readScenario)

export function scenariosFor(name: string): ScenarioSpec[] {
  return name === 'all' ? scenarioList() : [findScenario(name)]
}

const quote = (value: string) => (/^[\w@%+=:,./-]*$/.test(value) ? value : `'${value.replace(/'/g, "'\\''")}'`)

export async function startSession(options: SessionOptions): Promise<Session> {
  const specs = scenariosFor(options.scenario)
  const dir = mkdtempSync(join(tmpdir(), 'heroku-sandbox-session-'))
  let sandbox: Sandbox | undefined
  let cli: HerokuCli | undefined
  const stop = async () => {
    try {
      await sandbox?.stop()
    } finally {
      for (const folder of [dir, cli?.home]) if (folder) rmSync(folder, {recursive: true, force: true, maxRetries: 5})
    }
  }
  try {
    sandbox = await Sandbox.start({postgres: {exitOnSignal: false}})
    cli = new HerokuCli(sandbox)
    const linked = cli.link()
    const loaded: LoadedScenario[] = []
    for (const spec of specs) loaded.push(await loadScenario(sandbox, spec, {copyTo: dir}))
    await linked
    if (!options.fast) sandbox.delays = {...REHEARSAL_DELAYS}
    // The CLI's isolation (its own home, config, data and cache folders, no update checks) stays in a
    // wrapper, so that the exports change nothing else in the shell that sets them.
    const isolation = Object.entries(cli.env()).filter(([name]) => !(name in sandbox!.env) && !['PATH', 'NO_COLOR'].includes(name))
    mkdirSync(join(dir, 'bin'))
    const wrapper = join(dir, 'bin', 'heroku')
    writeFileSync(wrapper, [
      '#!/bin/sh',
      '# The heroku CLI of heroku-safe-rollback (npm), with the plugin linked, isolated from your own login.',
      ...isolation.map(([name, value]) => `export ${name}=${quote(value!)}`),
      `exec ${quote(join(repoRoot, 'node_modules', '.bin', 'heroku'))} "$@"`,
      '',
    ].join('\n'))
    chmodSync(wrapper, 0o755)
    return {sandbox, dir, loaded, exports: {...sandbox.env, PATH: join(dir, 'bin')}, stop}
  } catch (error) {
    await stop()
    throw error
  }
}

// The lines to paste into a shell; PATH is prepended to the shell's own.
export function exportLines(session: Session): string[] {
  return Object.entries(session.exports).map(([name, value]) => (name === 'PATH' ? `export PATH="${value}:$PATH"` : `export ${name}=${quote(value)}`))
}

// The environment of a subshell with the exports applied.
export function shellEnv(session: Session): NodeJS.ProcessEnv {
  const {PATH, ...rest} = session.exports
  return {...process.env, ...rest, PATH: `${PATH}:${process.env.PATH ?? ''}`, HEROKU_SANDBOX: session.sandbox.url}
}

export function guide(session: Session, shell: boolean): string {
  const {sandbox} = session
  const lines = [
    `Sandbox ready: the Heroku Platform and Postgres Data APIs at ${sandbox.url}, PostgreSQL on port ${sandbox.pg.port}.`,
    '',
  ]
  if (shell) {
    lines.push('A shell with these set starts now (`exit` ends it and stops the sandbox):')
  } else {
    lines.push('Paste these into another terminal: there, `heroku` is this project\'s CLI with the plugin linked, talking to the sandbox.',
      'Your own Heroku login, plugins and config are not used or touched.')
  }
  lines.push('', ...exportLines(session).map(line => `  ${line}`), '')
  for (const {spec, try: tries} of session.loaded) {
    lines.push(`${spec.name}: ${spec.title}`)
    if (spec.story) lines.push(`  ${spec.story}`)
    lines.push('  Try first:', ...tries.map(t => `    ${t}`), '')
  }
  lines.push(shell ? 'In the shell: `exit` (or Ctrl-D) stops the sandbox and removes everything it made.' : 'Ctrl-C stops the sandbox and removes everything it made.')
  return lines.join('\n')
}
