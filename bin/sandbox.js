#!/usr/bin/env node
// Rehearse an incident by hand: the local sandbox with the runbook's scenarios loaded, and the real
// `heroku` CLI (this project's own, with the plugin linked) pointed at it. Run with `npm run sandbox`
// (it builds first); `-- --list`, `-- --scenario NAME|FILE`, `-- --shell`. Nothing touches a real Heroku account.
import {spawn} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import {basename, join} from 'node:path'
import {parseArgs} from 'node:util'

const usage = `Usage: npm run sandbox -- [--scenario NAME|FILE] [--list] [--shell] [--fast]

  --scenario NAME  the scenario to load: a name from --list, the path of a scenario file, or all (default)
  --list           list the scenarios (sandbox/scenarios/*.json) and exit
  --shell          start a shell with the exports set; the sandbox stops when it exits
  --fast           keep the sandbox's quick delays (restores and release phases take under a second)`

let options
try {
  options = parseArgs({options: {
    scenario: {type: 'string', default: 'all'}, list: {type: 'boolean'}, shell: {type: 'boolean'}, fast: {type: 'boolean'}, help: {type: 'boolean', short: 'h'},
  }}).values
} catch (error) {
  process.stderr.write(`${error.message}\n${usage}\n`)
  process.exit(2)
}
if (options.help) {
  process.stdout.write(`${usage}\n`)
  process.exit(0)
}

const {guide, scenarioList, scenariosFor, shellEnv, startSession} = await import('../dist/tools/sandbox-session.js')

if (options.list) {
  for (const spec of scenarioList()) {
    process.stdout.write(`${spec.name.padEnd(20)} ${spec.title}\n${' '.repeat(21)}apps: ${spec.apps.map(a => a.name).join(', ')}${spec.project ? `; run from a copy of ${spec.project}` : ''}\n`)
  }
  process.stdout.write('\nEach is a file in sandbox/scenarios/: copy one, change it, and load it with --scenario path/to/file.json.\n')
  process.exit(0)
}

try {
  scenariosFor(options.scenario)
} catch (error) {
  process.stderr.write(`Error: ${error.message}\n`)
  process.exit(2)
}

process.stderr.write(`Starting the sandbox and loading ${options.scenario === 'all' ? 'every scenario' : basename(options.scenario)}...\n`)
let session
let stopping
let interrupted
const stop = signal => {
  if (stopping) {
    if (signal) process.stderr.write('Still stopping the sandbox...\n')
    return stopping
  }
  process.stderr.write(signal ? `\n${signal}: stopping the sandbox and removing its files...\n` : 'Stopping the sandbox and removing its files...\n')
  stopping = (session ? session.stop() : Promise.resolve()).then(() => process.stderr.write('Sandbox stopped; nothing is left behind.\n'))
  return stopping
}
const stopAndExit = signal => stop(signal).then(() => process.exit(0), error => {
  process.stderr.write(`Error while stopping: ${error.message}\n`)
  process.exit(1)
})
// While starting, a signal is remembered: the session is stopped as soon as it exists.
const onSignal = signal => {
  if (session) stopAndExit(signal)
  else interrupted ??= signal
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, onSignal)

try {
  session = await startSession({scenario: options.scenario, fast: options.fast})
} catch (error) {
  process.stderr.write(interrupted ? `${interrupted} while starting: stopped; nothing is left behind.\n` : `Error: ${error.message}\n`)
  process.exit(interrupted ? 0 : 1)
}
if (interrupted) await stopAndExit(interrupted)

process.stdout.write(`\n${guide(session, options.shell)}\n`)

if (options.shell) {
  const shell = process.env.SHELL || 'bash'
  const env = shellEnv(session)
  // bash: the user's own startup file, then a prompt that says where commands go.
  const args = basename(shell) === 'bash' ? ['--rcfile', rcfile(session.dir), '-i'] : ['-i']
  const child = spawn(shell, args, {stdio: 'inherit', env, cwd: session.dir})
  // The shell and what runs in it get Ctrl-C; the sandbox stops when the shell ends (or on SIGTERM/SIGHUP, ending the shell too).
  process.removeAllListeners('SIGINT').on('SIGINT', () => {})
  for (const signal of ['SIGTERM', 'SIGHUP']) process.removeAllListeners(signal).on(signal, () => child.kill('SIGHUP'))
  child.on('exit', async code => {
    await stop()
    process.exit(code ?? 0)
  })
}
// Otherwise it runs until a signal: the HTTP server and PostgreSQL keep the event loop alive.

function rcfile(dir) {
  const file = join(dir, 'bashrc')
  writeFileSync(file, [
    '[ -f ~/.bashrc ] && . ~/.bashrc',
    'PS1="(heroku sandbox) ${PS1:-\\$ }"',
    '',
  ].join('\n'))
  return file
}
