import assert from 'node:assert/strict'
import {ChildProcess, execFileSync, spawn} from 'node:child_process'
import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {basename, join} from 'node:path'
import {repoRoot} from '../src/tools/heroku-cli.js'
import {DEMO_ROWS, PRISMA_FIXTURE, prismaAppSpec} from '../src/sandbox/seeds/prisma-app.js'
import {dataLossSpec} from '../src/sandbox/seeds/data-loss.js'
import {sharedDatabaseSpecs} from '../src/sandbox/seeds/shared-database.js'
import {brokenAppSpec} from '../src/sandbox/seeds/broken-app.js'
import {loadScenario} from '../src/sandbox/scenarios/load.js'
import {readScenario, SCENARIOS_DIR, scenarioFiles} from '../src/sandbox/scenarios/spec.js'
import {heroku as linkedHeroku} from './support/heroku.js'
import {sandbox} from './support/sandbox.js'

// `npm run sandbox` (bin/sandbox.js): it starts, prints exports that point the real CLI at it, and
// leaves nothing behind after Ctrl-C. The script runs from dist/: `npm run build` first (npm test does).

const script = join(repoRoot, 'bin', 'sandbox.js')

interface Started {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  exited: Promise<number | null>
}

function start(args: string[]): Started {
  const child = spawn(process.execPath, [script, ...args], {cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', chunk => (stdout += chunk))
  child.stderr!.on('data', chunk => (stderr += chunk))
  const exited = new Promise<number | null>(resolve => child.on('close', code => resolve(code)))
  return {child, stdout: () => stdout, stderr: () => stderr, exited}
}

async function until(condition: () => boolean, what: string, ms = 150_000) {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

// Every process below `pid` (PostgreSQL and its workers), from /proc.
function descendants(pid: number): number[] {
  const parents = new Map<number, number>()
  for (const entry of readdirSync('/proc').filter(e => /^\d+$/.test(e))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]))
    } catch {
      // gone already
    }
  }
  const found: number[] = []
  const walk = (parent: number) => {
    for (const [child, ppid] of parents) {
      if (ppid === parent) {
        found.push(child)
        walk(child)
      }
    }
  }
  walk(pid)
  return found
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

// The exports as a shell would apply them.
function envFrom(stdout: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {...process.env}
  for (const [, name, value] of stdout.matchAll(/^ {2}export (\w+)=(.*)$/gm)) {
    env[name] = name === 'PATH' ? value.replace(/^"(.*):\$PATH"$/, '$1') + `:${process.env.PATH}` : value.replace(/^'(.*)'$/, '$1')
  }
  return env
}

const heroku = (args: string[], env: NodeJS.ProcessEnv) => {
  try {
    return {code: 0, stdout: execFileSync('heroku', args, {env, encoding: 'utf8', stdio: 'pipe', cwd: repoRoot})}
  } catch (error) {
    const failed = error as {status: number, stdout: string, stderr: string}
    return {code: failed.status, stdout: failed.stdout + failed.stderr}
  }
}

describe('npm run sandbox', () => {
  it('prints exports that point the real heroku CLI at a sandbox with the scenario, and leaves no process or folder behind after Ctrl-C', async function () {
    this.timeout(240_000)
    const started = start(['--scenario', 'broken-deploy', '--fast'])
    await until(() => started.stdout().includes('Ctrl-C stops the sandbox'), 'the sandbox to be ready')
    const out = started.stdout()
    assert.match(out, /^ {2}export HEROKU_HOST=http:\/\/127\.0\.0\.1:\d+$/m)
    assert.match(out, /^ {2}export HEROKU_DATA_HOST=127\.0\.0\.1$/m)
    assert.match(out, /^ {2}export HEROKU_API_KEY=sandbox-[0-9a-f]{32}$/m)
    assert.match(out, /^ {2}export PATH="\/\S+\/heroku-sandbox-session-\w+\/bin:\$PATH"$/m)
    assert.match(out, /^broken-deploy: A deploy broke the app/m)
    assert.match(out, /^ {4}heroku safe-rollback --app acme-shop$/m, 'what to try first')
    assert.doesNotMatch(out, /^data-loss:/m, 'only the scenario asked for')

    const env = envFrom(out)
    const wrapper = join(env.PATH!.split(':')[0], 'heroku')
    assert.equal(execFileSync('sh', ['-c', 'command -v heroku'], {env, encoding: 'utf8'}).trim(), wrapper, 'heroku is the isolated CLI')
    const releases = heroku(['releases', '--app', 'acme-shop', '--num', '3'], env)
    assert.equal(releases.code, 0, releases.stdout)
    assert.match(releases.stdout, /=== acme-shop Releases - Current: v52/)
    assert.match(releases.stdout, /v51 +Deploy de63889 +kendra@example\.com/)
    const dryRun = heroku(['safe-rollback', '--app', 'acme-shop', '--dry-run'], env)
    assert.equal(dryRun.code, 0, dryRun.stdout)
    assert.match(dryRun.stdout, /^Rolling back acme-shop from v52 to v51$/m, 'without a terminal, the release releases:rollback would choose')
    assert.match(dryRun.stdout, /^ {2}✓ backups +DATABASE \(postgresql-\S+\): newest good backup a001 is 2h old \(limit 1d\)\.$/m)
    assert.match(dryRun.stdout, /^Dry run: nothing was changed\./m)

    // What the script made: its folders (the wrapper's, the CLI's home, PostgreSQL's data) and processes.
    const home = readFileSync(wrapper, 'utf8').match(/^export HOME=(\S+)$/m)![1]
    const pids = descendants(started.child.pid!)
    const postgres = pids.map(pid => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')).find(argv => basename(argv[0]) === 'postgres')
    assert.ok(postgres, `PostgreSQL runs under the script: ${pids.join(', ')}`)
    const folders = [join(wrapper, '..', '..'), home, join(postgres[postgres.indexOf('-D') + 1], '..')]
    for (const folder of folders) assert.ok(existsSync(folder), `${folder} exists while the sandbox runs`)

    started.child.kill('SIGINT')
    assert.equal(await started.exited, 0, started.stderr())
    assert.match(started.stderr(), /SIGINT: stopping the sandbox/)
    assert.deepEqual(pids.filter(alive), [], 'no process of the sandbox is left')
    assert.deepEqual(folders.filter(folder => existsSync(folder)), [], 'no folder of the sandbox is left')
  })

  it('--shell opens a shell in which heroku talks to the sandbox, and stops everything when the shell exits', async function () {
    this.timeout(240_000)
    // A pseudo-terminal (util-linux `script`), as a person would have.
    const child = spawn('script', ['-qefc', `stty cols 200; ${process.execPath} ${script} --scenario broken-deploy --fast --shell`, '/dev/null'], {
      cwd: repoRoot, env: {...process.env, SHELL: '/bin/bash', TERM: 'xterm'}, stdio: ['pipe', 'pipe', 'pipe'],
    })
    let screen = ''
    child.stdout.on('data', chunk => (screen += chunk))
    const exited = new Promise<number | null>(resolve => child.on('close', code => resolve(code)))
    await until(() => screen.includes('(heroku sandbox) '), 'the shell prompt')
    const session = screen.match(/export PATH="(\S+)\/bin:\$PATH"/)![1]
    assert.ok(existsSync(session))
    child.stdin.write('heroku releases --app acme-shop --num 2\n')
    await until(() => /Current: v52/.test(screen), 'heroku releases in the shell', 60_000)
    child.stdin.write('exit\n')
    assert.equal(await exited, 0, screen)
    assert.match(screen, /Sandbox stopped; nothing is left behind\./)
    assert.equal(existsSync(session), false, `${session} is left behind`)
  })

  it('--list lists every scenario file, without starting anything', async () => {
    const listed = start(['--list'])
    assert.equal(await listed.exited, 0, listed.stderr())
    const names = scenarioFiles().map(file => basename(file, '.json'))
    assert.ok(names.length >= 3)
    for (const name of names) assert.match(listed.stdout(), new RegExp(`^${name} +\\S`, 'm'))
    assert.match(listed.stdout(), /^ +apps: acme-api; run from a copy of test\/fixtures\/prisma-app$/m)
  })

  it('refuses an unknown scenario in one line, naming the ones there are', async () => {
    const refused = start(['--scenario', 'nope'])
    assert.equal(await refused.exited, 2)
    assert.equal(refused.stderr(), 'Error: No scenario "nope": use one of broken-deploy, data-loss, deleted-uploads, shared-database, unwanted-migration, all, or the path of a scenario file.\n')
  })
})

describe('scenario files', () => {
  it('every file in sandbox/scenarios loads into the sandbox, and what to try names only what it made', async function () {
    this.timeout(120_000)
    const files = scenarioFiles()
    assert.ok(files.length >= 3, `${files.length} scenario files in ${SCENARIOS_DIR}`)
    for (const file of files) {
      const spec = readScenario(file)
      const loaded = await loadScenario(sandbox(), spec, {copyProject: false})
      for (const {app, databases} of loaded.apps) {
        assert.ok(app.releases.length > 0, `${file}: ${app.name} has releases`)
        for (const database of Object.values(databases)) assert.equal((await sandbox().sql(database, 'SELECT 1 AS one'))[0].one, 1)
      }
      assert.ok(loaded.try.length > 0, `${file}: something to try`)
      for (const line of loaded.try) assert.doesNotMatch(line, /\{[\w-]+\}/, `${file}: a placeholder left in "${line}"`)
    }
  })

  it('a broken copy is refused with what is wrong, before anything is loaded', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scenario-test-'))
    try {
      const file = join(dir, 'mine.json')
      writeFileSync(file, JSON.stringify({title: 'mine', try: [], apps: [{name: 'Bad_Name', releases: [{attach: 'DATABASE', ago: '3 weeks'}], events: [{sql: 'SELECT 1', database: 'OTHER'}]}]}))
      assert.throws(() => readScenario(file), {message: `${file}: app "Bad_Name" is not a Heroku app name; a release of Bad_Name attaches DATABASE, which "databases" does not list; "3 weeks" is not a duration such as 30d, 9h or 1d12h; an event of Bad_Name is about OTHER, which "databases" does not list`})
      writeFileSync(file, '{"title": ')
      assert.throws(() => readScenario(file), new RegExp(`^Error: ${file}: .*JSON`))
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('are the apps the tests and the demo seed (one shape, held equal here)', () => {
    const apps = (name: string) => readScenario(join(SCENARIOS_DIR, `${name}.json`)).apps
    assert.deepEqual(apps('broken-deploy'), [brokenAppSpec('acme-shop')])
    assert.deepEqual(apps('data-loss'), [dataLossSpec('acme-db')])
    assert.deepEqual(apps('shared-database'), sharedDatabaseSpecs('acme-store'))
    assert.deepEqual(apps('unwanted-migration'), [prismaAppSpec('acme-api', 'test/fixtures/prisma-app', {seedSql: DEMO_ROWS})])
    assert.ok(existsSync(join(PRISMA_FIXTURE, 'prisma', 'migrations')))
  })

  it('the shared-database scenario: the worker and reporting apps attach the store\'s database, the pooler in its namespace', async function () {
    this.timeout(120_000)
    const spec = readScenario(join(SCENARIOS_DIR, 'shared-database.json'))
    const renamed = JSON.parse(JSON.stringify(spec).replaceAll('acme-store', 'scenario-store'))
    const [store, worker, reports] = (await loadScenario(sandbox(), renamed)).apps
    const database = store.databases.DATABASE
    const attached = [...sandbox().state.attachments.values()].filter(a => a.addon.id === database.id).map(a => `${a.app.name} ${a.name} ${a.namespace}`).sort()
    assert.deepEqual(attached, ['scenario-store DATABASE null', 'scenario-store-reports REPORTING_DB null', 'scenario-store-worker DATABASE null', 'scenario-store-worker WORKER_POOL connection-pooling:default'])
    assert.equal(worker.app.config.DATABASE_URL, database._database!.url)
    assert.equal(reports.app.config.REPORTING_DB_URL, database._database!.url)
    assert.match(reports.app.releases.at(-1)!.description, /^Attach REPORTING_DB \(@ref:postgresql-/)
  })

  it('the data-loss scenario really lost rows after its point in time, and its backup holds them', async function () {
    this.timeout(60_000)
    const spec = readScenario(join(SCENARIOS_DIR, 'data-loss.json'))
    const loaded = await loadScenario(sandbox(), {...spec, apps: spec.apps.map(app => ({...app, name: 'scenario-data-loss'}))})
    const {databases, names} = loaded.apps[0]
    assert.equal((await sandbox().sql(databases.DATABASE, 'SELECT count(*)::int AS n FROM customers'))[0].n, 20)
    assert.match(names['before-loss'], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/)
    assert.match(names['backup-before-loss'], /^b\d{3}$/)
    assert.ok(loaded.try.some(line => line.includes(`--to ${names['before-loss']}`)))
  })

  it('the deleted-uploads scenario lost files after its moment, which files:recover finds, matched to the database', async function () {
    this.timeout(60_000)
    const spec = readScenario(join(SCENARIOS_DIR, 'deleted-uploads.json'))
    const name = 'scenario-uploads'
    const loaded = await loadScenario(sandbox(), {...spec, apps: spec.apps.map(app => ({...app, name, uploads: {...app.uploads!, bucket: `${name}-bucket`}}))})
    const moment = loaded.apps[0].names.beforeCleanup
    assert.match(moment, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/)
    const result = await linkedHeroku(['files:recover', '--app', name, '--to', moment, '--keys-from-db', 'SELECT s3_key FROM avatars', '--dry-run', '--json'])
    assert.equal(result.code, 0, result.stderr + result.stdout)
    const {counts} = JSON.parse(result.stdout)
    assert.deepEqual([counts.deleted, counts.notReferenced, counts.overwrittenKept, counts.created], [3, 1, 2, 2])
  })
})
