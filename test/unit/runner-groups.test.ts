import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import nock from 'nock'
import {sleep} from '../../src/lib/abort.js'
import {ApiFailure} from '../../src/lib/api/client.js'
import {maintenanceOn} from '../../src/lib/guards.js'
import {Interrupts} from '../../src/lib/interrupts.js'
import {actions} from '../../src/lib/registry.js'
import {groupsOf, Progress, Runner} from '../../src/lib/runner/runner.js'
import {Step} from '../../src/lib/runner/step.js'
import {API, apiClient, useNock} from './client.js'

// Steps of one group (Step.together) run at the same time, each still a step of its own: its events in the
// run log, its read-back, its undo. The runner waits for the whole group before it decides.

async function runner() {
  const dataDir = mkdtempSync(join(tmpdir(), 'runner-groups-'))
  const interrupts = new Interrupts(() => assert.fail('no signal may reach the default handler during a run'))
  const shown: string[] = []
  const progress: Progress = {
    start: title => shown.push(`start ${title}`), status() {}, stop: result => shown.push(`stop ${result}`),
    say: text => shown.push(text), output() {},
  }
  const run = new Runner({api: await apiClient(), actions, interrupts, progress, dataDir, command: 'test', app: 'shop', what: 'a test run', timeoutMs: 5000})
  return {run, shown, interrupts, dataDir}
}

const events = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map(line => JSON.parse(line)).map(e => `${e.event}${e.step ? ` ${e.step}` : ''}`)

// Maintenance on for one app, in group G (its undo turns it off, read back).
const quiet = (app: string, fields: Partial<Step<void>> = {}): Step<void> => ({...maintenanceOn(app), id: `on:${app}`, together: 'Quiet the apps', ...fields})

const puttingBack = (app: string) => nock(API).patch(`/apps/${app}`, {maintenance: false}).reply(200, {}).get(`/apps/${app}`).reply(200, {maintenance: false})

// Resolves once `count` calls were made.
function meeting(count: number) {
  let arrived = 0
  let all!: () => void
  const met = new Promise<void>(resolve => {
    all = resolve
  })
  return {arrive: () => ++arrived === count && all(), met}
}

describe('the runner: steps of one group', () => {
  useNock()

  it('run at the same time (a step that waits for the other to start ends), each with its own events, one line each as it ends', async () => {
    const {run, shown} = await runner()
    let bStarted!: () => void
    const started = new Promise<void>(resolve => {
      bStarted = resolve
    })
    const never = sleep(5000).then(() => {
      throw new Error('b never started while a waited: the group ran one step after another')
    })
    const a: Step<string> = {id: 'a', title: 'Step a', together: 'G', apply: async () => {
      await Promise.race([started, never])
      return 'a'
    }}
    const b: Step<string> = {id: 'b', title: 'Step b', together: 'G', apply: async () => {
      bStarted()
      return 'b'
    }}
    const after: Step<string> = {id: 'after', title: 'Step after', apply: async () => 'after'}
    never.catch(() => {})
    const outcome = await run.run([a, b, after])
    assert.equal(outcome.status, 'succeeded', outcome.error)
    assert.deepEqual(outcome.steps.map(s => `${s.id}:${s.state}`), ['a:done', 'b:done', 'after:done'])
    assert.deepEqual(events(outcome.log), [
      'begin', 'started a', 'started b', 'applied b', 'done b', 'applied a', 'done a', 'started after', 'applied after', 'done after', 'end',
    ])
    // The group's title once, then each step as it ends (b first), then the group's end; no spinner per step.
    assert.deepEqual(shown, ['start G (2 at once)', '  Step b: done', '  Step a: done', 'stop done', 'start Step after', 'stop done'])
  })

  it('a failure in one step waits for the others, then puts back those that ran, newest first, together, each read back', async () => {
    const {run} = await runner()
    nock(API).patch('/apps/shop', {maintenance: true}).reply(200, {})
      .patch('/apps/a', {maintenance: true}).reply(200, {})
      .patch('/apps/b', {maintenance: true}).reply(200, {})
    for (const app of ['b', 'a', 'shop']) puttingBack(app)
    const fails: Step<void> = {id: 'fails', title: 'Step fails', together: 'Quiet the apps', apply: async () => {
      throw new Error('it broke')
    }}
    const later: Step<void> = {id: 'later', title: 'Later', apply: async () => assert.fail('no step runs after a failed group')}
    const outcome = await run.run([{...maintenanceOn('shop'), id: 'on:shop'}, quiet('a'), fails, quiet('b'), later])
    assert.ok(nock.isDone(), `not every request was made: ${nock.pendingMocks().join(', ')}`)
    assert.equal(outcome.status, 'failed')
    assert.equal(outcome.error, 'it broke.')
    assert.deepEqual(outcome.steps.map(s => `${s.id}:${s.state}`), ['on:shop:undone', 'on:a:undone', 'fails:failed', 'on:b:undone', 'later:not run'])
    const log = events(outcome.log)
    // b's and a's put-backs start together (b, the newest, first); shop's only once both are read back.
    const puttingBackFrom = log.indexOf('undo-started on:b')
    assert.deepEqual(log.slice(puttingBackFrom, puttingBackFrom + 2), ['undo-started on:b', 'undo-started on:a'])
    assert.deepEqual(log.slice(puttingBackFrom + 2, puttingBackFrom + 4).sort(), ['undone on:a', 'undone on:b'])
    assert.deepEqual(log.slice(puttingBackFrom + 4), ['undo-started on:shop', 'undone on:shop', 'end'])
  })

  it('Ctrl-C mid-group: the read in flight is stopped, the write in flight is read back, no step starts, what ran is put back', async () => {
    const {run, interrupts} = await runner()
    interrupts.install()
    try {
      puttingBack('a')
      puttingBack('b')
      const both = meeting(2)
      let sent = 0
      // Its answer comes within the moment a write is given after Ctrl-C: it is made.
      const answered = quiet('a', {apply: async ({signal}) => {
        both.arrive()
        await new Promise(resolve => {
          signal.addEventListener('abort', resolve)
        })
      }})
      // Cut off by a second Ctrl-C: its outcome is learnt by reading the state back, never by sending it again.
      const cutOff = quiet('b', {
        apply: async ({writeSignal}) => {
          sent++
          both.arrive()
          await sleep(10_000, writeSignal)
        },
        observe: async () => ({applied: true, result: undefined}),
      })
      const reading: Step<void> = {id: 'read', title: 'A read', together: 'Quiet the apps', apply: ({signal}) => sleep(10_000, signal)}
      const later: Step<void> = {id: 'later', title: 'Later', apply: async () => assert.fail('no step starts after Ctrl-C')}
      void both.met.then(() => {
        process.emit('SIGINT', 'SIGINT')
        setImmediate(() => process.emit('SIGINT', 'SIGINT'))
      })
      const outcome = await run.run([answered, cutOff, reading, later])
      assert.ok(nock.isDone(), `not every request was made: ${nock.pendingMocks().join(', ')}`)
      assert.equal(outcome.status, 'interrupted')
      assert.equal(sent, 1)
      assert.deepEqual(outcome.steps.map(s => `${s.id}:${s.state}`), ['on:a:undone', 'on:b:undone', 'read:interrupted', 'later:not run'])
      assert.ok(!events(outcome.log).includes('started later'))
    } finally {
      interrupts.uninstall()
    }
  })

  it('a lost answer in a group is read back: the write is not sent again, and the run goes on', async () => {
    const {run} = await runner()
    nock(API).patch('/apps/b', {maintenance: true}).reply(200, {})
    let sent = 0
    const lost = quiet('a', {
      apply: async () => {
        sent++
        throw new ApiFailure('the connection was lost before an answer', undefined, 'ECONNRESET', 'unknown')
      },
      observe: async () => ({applied: true, result: undefined}),
    })
    const outcome = await run.run([lost, quiet('b')])
    assert.ok(nock.isDone())
    assert.equal(outcome.status, 'succeeded', outcome.error)
    assert.equal(sent, 1)
    assert.match(outcome.steps[0].note!, /answer was lost; read back: it happened/)
    assert.deepEqual(outcome.steps.map(s => `${s.id}:${s.state}`), ['on:a:done', 'on:b:done'])
    // b was under way while a's state was read back.
    const log = events(outcome.log)
    assert.ok(log.indexOf('started on:b') < log.indexOf('applied on:a'), log.join(', '))
  })

  it('going on (--continue) from a log where a group\'s events interleave: the done step is kept, each one under way is read back, not sent again', async () => {
    const {run, dataDir} = await runner()
    const {RunLog, readRun} = await import('../../src/lib/runner/log.js')
    const log = RunLog.begin(dataDir, {command: 'test', app: 'shop', what: 'a test run', steps: ['a', 'b', 'c'].map(id => ({id, title: `Step ${id}`}))})
    for (const event of [{event: 'started', step: 'a'}, {event: 'started', step: 'b'}, {event: 'started', step: 'c'}, {event: 'applied', step: 'b', result: 'b'}, {event: 'done', step: 'b'}] as const) log.append(event)
    const record = readRun(log.file)!
    record.status = 'died'
    assert.deepEqual(record.steps.map(s => `${s.id}:${s.state}`), ['a:started', 'b:done', 'c:started'])
    const calls: string[] = []
    const step = (id: string, seen: boolean): Step<string> => ({
      id, title: `Step ${id}`, together: 'G',
      apply: async () => {
        calls.push(`apply ${id}`)
        return id
      },
      observe: async () => {
        calls.push(`observe ${id}`)
        return seen ? {applied: true, result: id} : {applied: false}
      },
    })
    const outcome = await run.run([step('a', true), step('b', true), step('c', false)], record)
    assert.equal(outcome.status, 'succeeded', outcome.error)
    assert.deepEqual(calls.sort(), ['apply c', 'observe a', 'observe c'])
    assert.deepEqual(readRun(log.file)!.steps.map(s => `${s.id}:${s.state}`), ['a:done', 'b:done', 'c:done'])
    // The two under way went on together, the done one was not started again.
    const after = events(log.file)
    assert.deepEqual(after.slice(after.indexOf('continued') + 1, after.indexOf('continued') + 3), ['started a', 'started c'])
  })

  it('groups only steps next to each other with the same title; a step that keeps work running runs alone', () => {
    const step = (id: string, together?: string, fields: Partial<Step> = {}): Step => ({id, title: id, together, apply: async () => undefined, ...fields})
    const keeps = step('restore', 'G', {keepsRunning: () => undefined})
    assert.deepEqual(groupsOf([step('a', 'G'), step('b', 'G'), keeps, step('c', 'G'), step('d'), step('e', 'H'), step('f', 'G')]).map(g => g.indexes), [[0, 1], [2], [3], [4], [5], [6]])
  })
})
