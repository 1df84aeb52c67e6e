import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import nock from 'nock'
import {ApiFailure} from '../../src/lib/api/client.js'
import {finishingSteps} from '../../src/lib/runner/history.js'
import {listRuns, openItems, readRun} from '../../src/lib/runner/log.js'
import {Runner} from '../../src/lib/runner/runner.js'
import type {Step} from '../../src/lib/runner/step.js'
import {Interrupts} from '../../src/lib/interrupts.js'
import {actions} from '../../src/lib/registry.js'
import {API, apiClient, useNock} from './client.js'

// A step that changes many things at once (a batch) logs, before it runs, the undo of whatever part of
// it may exist (Step.undoPartial): due when the process dies in the step or its outcome is unknown.

async function runner() {
  const dataDir = mkdtempSync(join(tmpdir(), 'runner-partial-'))
  const interrupts = new Interrupts(() => assert.fail('no signal may reach the default handler during a run'))
  const progress = {start() {}, status() {}, stop() {}, say() {}, output() {}}
  return {dataDir, run: new Runner({api: await apiClient(), actions, interrupts, progress, dataDir, command: 'test', app: 'shop', what: 'a test run', timeoutMs: 5000})}
}

const batch = (id: string, apply: Step<string>['apply']): Step<string> => ({
  id, title: `Change ${id}`, apply,
  undo: (_result, run = 'RUN') => ({title: `Put back what ${id} changed`, command: `heroku files:recover --app shop --undo ${run}`, action: {kind: 'maintenance', app: 'shop', on: false}, automatic: true}),
  undoPartial: run => ({title: `Put back whatever ${id} changed, read back`, command: `heroku files:recover --app shop --undo ${run}`, action: {kind: 'maintenance', app: 'shop', on: false}, automatic: true}),
})

const puttingBack = () => nock(API).patch('/apps/shop', {maintenance: false}).reply(200, {}).get('/apps/shop').reply(200, {maintenance: false})

describe('the runner: the undo logged before a step runs (undoPartial)', () => {
  useNock()

  it('is in the run log before the step runs: a process that dies in it leaves it due for recovery:resume', async () => {
    const {run, dataDir} = await runner()
    let inFlight = ''
    const outcome = await run.run([batch('files-1', async () => {
      inFlight = readFileSync(listRuns(dataDir, 'shop')[0].file, 'utf8')
      return 'done'
    })])
    assert.equal(outcome.status, 'succeeded')
    // The log as a process killed inside `apply` leaves it.
    const dead = spawnSync('true').pid
    const file = join(mkdtempSync(join(tmpdir(), 'runner-partial-dead-')), `${outcome.run}.jsonl`)
    writeFileSync(file, inFlight.replace(/"pid":\d+/, `"pid":${dead}`))
    const record = readRun(file)!
    assert.equal(record.status, 'died')
    assert.equal(record.steps[0].state, 'started')
    assert.equal(record.steps[0].partial, true)
    assert.deepEqual(openItems(record).undo.map(s => s.undo!.title), ['Put back whatever files-1 changed, read back'])
    // What recovery:resume shows comes from the action itself, never from the log's words.
    assert.deepEqual(finishingSteps(actions, record).map(s => s.title), ['Turn maintenance mode off (`heroku maintenance:off --app shop`)'])
    // Once applied, the step's own undo takes its place.
    const applied = readRun(outcome.log)!
    assert.equal(applied.steps[0].partial, undefined)
    assert.equal(applied.steps[0].undo!.title, 'Put back what files-1 changed')
  })

  it('is performed when the step fails with its outcome unknown, and is then done', async () => {
    const {run} = await runner()
    const scope = puttingBack()
    const outcome = await run.run([batch('files-1', async () => {
      throw new ApiFailure('no answer in time', undefined, 'ETIMEDOUT', 'unknown')
    })])
    scope.done()
    assert.deepEqual(outcome.steps.map(s => s.state), ['undone'])
    assert.equal(outcome.steps[0].undo!.title, 'Put back whatever files-1 changed, read back')
    const record = readRun(outcome.log)!
    assert.equal(record.steps[0].state, 'undone')
    assert.deepEqual(openItems(record).undo, [])
  })

  it('is not due when the step failed with nothing changed', async () => {
    const {run} = await runner()
    const outcome = await run.run([batch('files-1', async () => {
      throw new ApiFailure('Access Denied', 403, 'AccessDenied', false)
    })])
    assert.deepEqual(outcome.steps.map(s => [s.state, s.change]), [['failed', 'not made']])
    const record = readRun(outcome.log)!
    assert.equal(record.steps[0].partial, undefined)
    assert.deepEqual(openItems(record).undo, [])
  })

  it('lists each command that finishes the run once, however many steps share it', async () => {
    const {run} = await runner()
    nock(API).patch('/apps/shop', {maintenance: false}).times(32).reply(503, {id: 'unavailable', message: 'The API is unavailable.'})
    nock(API).get('/apps/shop').times(8).reply(200, {maintenance: true})
    const outcome = await run.run([batch('files-1', async () => 'one'), batch('files-2', async () => 'two'), {id: 'last', title: 'Fail', apply: async () => {
      throw new Error('it broke')
    }}])
    assert.deepEqual(outcome.steps.map(s => s.state), ['undo failed', 'undo failed', 'failed'])
    assert.deepEqual(outcome.finish, [`heroku recovery:resume ${outcome.run}`, `heroku files:recover --app shop --undo ${outcome.run}`])
  })
})
