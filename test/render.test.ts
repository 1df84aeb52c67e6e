import assert from 'node:assert/strict'
import {checkLines, stepList} from '../src/lib/render/index.js'
import {DEMO_ROWS, PRISMA_FIXTURE, seedPrismaApp} from '../src/sandbox/seeds/prisma-app.js'
import {seedDataLoss} from '../src/sandbox/seeds/data-loss.js'
import {seedBrokenApp} from '../src/sandbox/seeds/broken-app.js'
import {seedMissingUploads} from '../src/sandbox/seeds/uploads.js'
import {heroku, interactive} from './support/heroku.js'
import {appName, sandbox} from './support/sandbox.js'

// One look for every command: the same check lines everywhere, and progress that reads as separate
// lines when there is no terminal to draw a spinner on.

// mark, the name in a column, two spaces at least, the detail.
const CHECK_LINE = /^ {2}([✓✗!-]) (\S.*?) {2,}(\S.*)$/

// The lines of the "Checks:" section.
function checksOf(stdout: string): string[] {
  const lines = stdout.split('\n')
  const start = lines.indexOf('Checks:')
  assert.ok(start >= 0, `no Checks: section in\n${stdout}`)
  const end = lines.findIndex((line, i) => i > start && line.trim() === '')
  return lines.slice(start + 1, end)
}

function assertOneFormat(command: string, lines: string[]) {
  assert.ok(lines.length >= 2, `${command}: ${lines.length} check lines`)
  const columns = lines.map(line => {
    const match = CHECK_LINE.exec(line)
    assert.ok(match, `${command}: "${line}" is not a check line`)
    return line.length - match[3].length
  })
  assert.equal(new Set(columns).size, 1, `${command}: the details start in one column\n${lines.join('\n')}`)
}

// Status texts of the runner's steps: each must have a line of its own.
const STATUS = /provisioning|provisioned|preparing|available|\d+(\.\d+)? [kMG]?B processed|dynos up on v\d+|release phase running/g

function assertOneUpdatePerLine(output: string) {
  const lines = output.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').split(/\r?\n|\r/)
  for (const line of lines) assert.ok((line.match(STATUS) ?? []).length <= 1, `two status updates on one line: "${line}"`)
  for (const status of ['provisioning', 'provisioned', 'available']) {
    assert.ok(lines.some(line => line.trim() === status), `"${status}" on a line of its own in\n${output}`)
  }
}

describe('one renderer for every command', () => {
  it('checkLines: mark, name column as wide as the longest name, detail; lines under it in the detail column', () => {
    assert.deepEqual(checkLines([
      {name: 'release', outcome: 'passed', detail: 'v50 succeeded.'},
      {name: 'point in time', outcome: 'failed', detail: 'outside the window.', more: ['starts 2026-11-22']},
      {name: 'down-check', outcome: 'warning', detail: 'skipped.'},
      {name: 'schema', outcome: 'skipped', detail: 'not checked.'},
    ]), [
      '  ✓ release        v50 succeeded.',
      '  ✗ point in time  outside the window.',
      '                   starts 2026-11-22',
      '  ! down-check     skipped.',
      '  - schema         not checked.',
    ])
  })

  it('stepList: numbers right-aligned, so that titles start in one column past nine steps', () => {
    const steps = Array.from({length: 10}, (_, i) => ({id: `s${i}`, title: `Step ${i + 1}`, apply: async () => undefined}))
    const lines = stepList(steps)
    assert.equal(lines[0], '   1. Step 1')
    assert.equal(lines[9], '  10. Step 10')
    assert.deepEqual(stepList(steps.slice(0, 2)), ['  1. Step 1', '  2. Step 2'])
  })

  it('safe-rollback, db:recover, migrate:down and files:recover print their checks in one format', async function () {
    this.timeout(180_000)
    const broken = appName('render')
    await seedBrokenApp(sandbox(), broken)
    const lost = appName('render')
    const loss = await seedDataLoss(sandbox(), lost)
    const prisma = appName('render')
    await seedPrismaApp(sandbox(), prisma, PRISMA_FIXTURE, {seedSql: DEMO_ROWS})

    const rollback = await heroku(['safe-rollback', 'v50', '--app', broken, '--dry-run'])
    const recover = await heroku(['db:recover', '--app', lost, '--to', loss.beforeLoss, '--dry-run'])
    const down = await heroku(['migrate:down', '--app', prisma, '--dry-run'], {cwd: PRISMA_FIXTURE})
    const uploads = seedMissingUploads(sandbox(), sandbox().createApp(appName('render')))
    const files = await heroku(['files:recover', '--app', uploads.app.name, '--to', uploads.recoverTo, '--dry-run'])
    for (const [command, result] of Object.entries({rollback, recover, down, files})) {
      assert.equal(result.code, 0, `${command}: ${result.stderr}`)
      assertOneFormat(command, checksOf(result.stdout))
    }
    assert.match(rollback.stdout, /^ {2}✓ release {2}v50 succeeded and is eligible for rollback\.$/m)
    assert.match(recover.stdout, /^ {2}✓ point in time {2}\S+ \(\d+s ago\) is inside the rollback window/m)
    assert.match(down.stdout, /^ {2}! schema-only +A down migration reverts schema changes, not data changes/m)
  })

  it('without a terminal, every status update is a line of its own', async function () {
    this.timeout(120_000)
    const name = appName('render')
    const loss = await seedDataLoss(sandbox(), name)
    const result = await heroku(['db:recover', '--app', name, '--to', loss.beforeLoss, '--confirm', name])
    assert.equal(result.code, 0, result.stderr)
    assertOneUpdatePerLine(result.stderr)
  })

  it('in a terminal where oclif draws no spinner (CI=1), status updates do not run together either', async function () {
    this.timeout(120_000)
    const name = appName('render')
    const loss = await seedDataLoss(sandbox(), name)
    const result = await interactive(['db:recover', '--app', name, '--to', loss.beforeLoss, '--confirm', name], [], {env: {CI: '1'}})
    assert.equal(result.code, 0, result.stdout)
    assertOneUpdatePerLine(result.stdout)
  })
})
