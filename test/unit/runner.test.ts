import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import nock from 'nock'
import {sleep} from '../../src/lib/abort.js'
import {ApiFailure} from '../../src/lib/api/client.js'
import {maintenanceOff, maintenanceOn, scaleBack, scaleDown} from '../../src/lib/guards.js'
import {Interrupts} from '../../src/lib/interrupts.js'
import {actions} from '../../src/lib/registry.js'
import {finishingSteps, recordJson} from '../../src/lib/runner/history.js'
import {listRuns, openItems, readRun} from '../../src/lib/runner/log.js'
import {Progress, Runner} from '../../src/lib/runner/runner.js'
import {NoEffect, Step} from '../../src/lib/runner/step.js'
import {API, apiClient, useNock} from './client.js'

// The runner with steps of its own, and the API answered by nock: what runs, what is put back (and
// checked by reading), what the run log keeps, and what a signal does at each moment.

const workers = [{type: 'worker', quantity: 2}]

function progress() {
  const said: string[] = []
  const shown: Progress = {start() {}, status() {}, stop() {}, say: text => said.push(text), output() {}}
  return {said, shown}
}

async function runner(options: {onStart?: (interrupts: Interrupts) => void} = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'runner-'))
  const interrupts = new Interrupts(() => assert.fail('no signal may reach the default handler during a run'))
  const {said, shown} = progress()
  const run = new Runner({api: await apiClient(), actions, interrupts, progress: shown, dataDir, command: 'test', app: 'shop', what: 'a test run', timeoutMs: 5000})
  options.onStart?.(interrupts)
  return {run, said, dataDir, interrupts}
}

// A step that only records that it ran.
const mark = (id: string, ran: string[], fields: Partial<Step<string>> = {}): Step<string> => ({id, title: `Step ${id}`, apply: async () => {
  ran.push(id)
  return id
}, ...fields})

const fails = (id: string, message = 'it broke'): Step<void> => ({id, title: `Step ${id}`, apply: async () => {
  throw new Error(message)
}})

// Maintenance off and a read that shows it off: a put-back checked by reading the state back.
const puttingBackMaintenance = () => nock(API).patch('/apps/shop', {maintenance: false}).reply(200, {}).get('/apps/shop').reply(200, {maintenance: false})

describe('the runner', () => {
  useNock()

  it('runs the steps in order and records each in a run log that the process can die after', async () => {
    const {run, dataDir} = await runner()
    const ran: string[] = []
    const outcome = await run.run([mark('a', ran), mark('b', ran, {done: result => `made ${result}`})])
    assert.equal(outcome.status, 'succeeded')
    assert.deepEqual(ran, ['a', 'b'])
    assert.deepEqual(outcome.steps.map(s => [s.id, s.state, s.note]), [['a', 'done', undefined], ['b', 'done', 'made b']])
    assert.equal(outcome.result('b'), 'b')
    const events = readFileSync(outcome.log, 'utf8').trim().split('\n').map(line => JSON.parse(line).event)
    assert.deepEqual(events, ['begin', 'started', 'applied', 'done', 'started', 'applied', 'done', 'end'])
    const [record] = listRuns(dataDir, 'shop')
    assert.equal(record.status, 'succeeded')
    assert.deepEqual(openItems(record), {settle: [], undo: []})
  })

  it('on a failure, undoes the steps that ran, newest first, each checked by reading it back', async () => {
    const {run} = await runner()
    const scope = nock(API)
      .patch('/apps/shop', {maintenance: true}).reply(200, {})
      .patch('/apps/shop/formation', {updates: [{type: 'worker', quantity: 0}]}).reply(200, [])
      .patch('/apps/shop/formation', {updates: workers}).reply(200, [])
      .get('/apps/shop/formation').reply(200, [{type: 'worker', quantity: 2}])
      .patch('/apps/shop', {maintenance: false}).reply(200, {})
      .get('/apps/shop').reply(200, {maintenance: false})
    const outcome = await run.run([maintenanceOn('shop'), scaleDown('shop', workers), fails('switch'), scaleBack('shop', workers), maintenanceOff('shop')])
    scope.done()
    assert.equal(outcome.status, 'failed')
    assert.equal(outcome.error, 'it broke.')
    assert.deepEqual(outcome.steps.map(s => s.state), ['undone', 'undone', 'failed', 'not run', 'not run'])
    assert.deepEqual(outcome.steps.slice(3).map(s => s.note), ['not needed: put back above', 'not needed: put back above'])
    assert.deepEqual(outcome.finish, [])
  })

  it('does not undo what a later step already put back', async () => {
    const {run} = await runner()
    const scope = nock(API).patch('/apps/shop', {maintenance: true}).reply(200, {}).patch('/apps/shop', {maintenance: false}).reply(200, {})
    const outcome = await run.run([maintenanceOn('shop'), maintenanceOff('shop'), fails('after')])
    scope.done()
    assert.deepEqual(outcome.steps.map(s => s.state), ['done', 'done', 'failed'])
  })

  it('after a lost answer, reads the state: a write that happened is not sent again, and the run goes on', async () => {
    const {run} = await runner()
    let sent = 0
    const ran: string[] = []
    const lost: Step<string> = {
      id: 'lost', title: 'A write whose answer is lost',
      apply: async () => {
        sent++
        throw new ApiFailure('the connection was lost before an answer', undefined, 'ECONNRESET', 'unknown')
      },
      observe: async () => ({applied: true, result: 'v53'}),
    }
    const outcome = await run.run([lost, mark('next', ran)])
    assert.equal(outcome.status, 'succeeded')
    assert.equal(sent, 1)
    assert.equal(outcome.result('lost'), 'v53')
    assert.match(outcome.steps[0].note!, /answer was lost; read back: it happened/)
    assert.deepEqual(ran, ['next'])
  })

  it('after a lost answer that did not happen, stops, says nothing was changed, and puts back what ran', async () => {
    const {run} = await runner()
    const scope = nock(API).patch('/apps/shop', {maintenance: true}).reply(200, {})
    puttingBackMaintenance()
    const lost: Step<void> = {
      id: 'lost', title: 'Roll back',
      apply: async () => {
        throw new ApiFailure('The API is unavailable.', 503, 'unavailable', 'unknown')
      },
      observe: async () => ({applied: false}),
    }
    const outcome = await run.run([maintenanceOn('shop'), lost, maintenanceOff('shop')])
    scope.done()
    assert.equal(outcome.error, 'Roll back failed: The API is unavailable.')
    assert.deepEqual(outcome.steps.map(s => [s.state, s.change]), [['undone', undefined], ['failed', 'not made'], ['not run', undefined]])
  })

  it('sends a write once more only after reading back that a passing failure (503) left nothing done', async () => {
    const {run} = await runner()
    let sent = 0
    const flaky: Step<string> = {
      id: 'flaky', title: 'Roll back',
      apply: async () => {
        if (++sent === 1) throw new ApiFailure('The API is unavailable.', 503, 'unavailable', 'unknown', 10)
        return 'v53'
      },
      observe: async () => ({applied: false}),
    }
    const outcome = await run.run([flaky])
    assert.equal(outcome.status, 'succeeded')
    assert.equal(sent, 2)
    const refused: Step<string> = {...flaky, id: 'refused', apply: async () => {
      sent++
      throw new ApiFailure('Release cannot be rolled back to.', 422, 'invalid_params', false)
    }}
    sent = 0
    assert.equal((await (await runner()).run.run([refused])).status, 'failed')
    assert.equal(sent, 1, 'a refusal is not sent again')
  })

  it('says "unknown" when reading the state back cannot tell', async () => {
    const {run} = await runner()
    const outcome = await run.run([{
      id: 'blind', title: 'A write', apply: async () => {
        throw new ApiFailure('no answer in time', undefined, 'ETIMEDOUT', 'unknown')
      },
      observe: async () => {
        throw new Error('the API is down')
      },
    }])
    assert.equal(outcome.steps[0].state, 'unknown')
  })

  it('reports a put-back that does not hold, with the exact command and recovery:resume, and keeps it due in the log', async () => {
    const {run, dataDir} = await runner()
    nock(API).patch('/apps/shop', {maintenance: true}).reply(200, {})
    nock(API).patch('/apps/shop', {maintenance: false}).times(8).reply(503, {id: 'unavailable', message: 'The API is unavailable.'})
    nock(API).get('/apps/shop').times(2).reply(200, {maintenance: true})
    const outcome = await run.run([maintenanceOn('shop'), fails('switch')])
    assert.equal(outcome.steps[0].state, 'undo failed')
    assert.deepEqual(outcome.finish, [`heroku recovery:resume ${outcome.run}`, 'heroku maintenance:off --app shop'])
    const record = listRuns(dataDir, 'shop')[0]
    assert.deepEqual(openItems(record).undo.map(s => s.id), ['maintenance-on'])
  })

  it('keeps no undo for a change that turned out to have no effect', async () => {
    const {run} = await runner()
    const outcome = await run.run([{
      id: 'rollback', title: 'Roll back', apply: async () => 'v53',
      then: async () => {
        throw new NoEffect('the release phase failed; the app still runs v52')
      },
      undo: () => ({title: 'Roll back again', command: 'heroku safe-rollback v52 --app shop', automatic: false}),
    }])
    assert.equal(outcome.steps[0].state, 'failed')
    assert.deepEqual(outcome.undo, [])
  })

  it('gives a step\'s undo the run\'s id, so that the command it names can undo this very run', async () => {
    const {run} = await runner()
    const outcome = await run.run([
      {id: 'copy', title: 'Copy', apply: async () => 'made', undo: (_result, id = 'RUN') => ({title: 'Take the copy back', command: `heroku files:recover --app shop --undo ${id}`, automatic: false})},
      fails('switch'),
    ])
    assert.deepEqual(outcome.undo, [`heroku files:recover --app shop --undo ${outcome.run}`])
    assert.equal(readRun(outcome.log)!.steps[0].undo!.command, `heroku files:recover --app shop --undo ${outcome.run}`)
  })

  describe('a change that relies on an earlier one (needs)', () => {
    const rollback = (then: () => Promise<string>): Step<string> => ({
      id: 'rollback', title: 'Roll back', needs: ['maintenance-on'], apply: async () => 'v53', then,
      undo: () => ({title: 'Roll back again', command: 'heroku safe-rollback v52 --app shop', automatic: false}),
    })

    it('keeps the earlier change once the later one exists, and says how to undo both, newest first', async () => {
      const {run, dataDir} = await runner()
      nock(API).patch('/apps/shop', {maintenance: true}).reply(200, {})
      const outcome = await run.run([maintenanceOn('shop'), rollback(async () => {
        throw new Error('the dynos crashed')
      })])
      assert.deepEqual(outcome.steps.map(s => s.state), ['done', 'failed'])
      assert.deepEqual(outcome.undo, ['heroku safe-rollback v52 --app shop', 'heroku maintenance:off --app shop'])
      assert.deepEqual(outcome.finish, [])
      assert.deepEqual(openItems(listRuns(dataDir, 'shop')[0]).undo, [], 'recovery:resume does not take it back either')
    })

    it('puts the earlier change back when the later one turned out to have no effect', async () => {
      const {run, dataDir} = await runner()
      nock(API).patch('/apps/shop', {maintenance: true}).reply(200, {})
      puttingBackMaintenance()
      const outcome = await run.run([maintenanceOn('shop'), rollback(async () => {
        throw new NoEffect('the release phase failed; the app still runs v52')
      })])
      assert.deepEqual(outcome.steps.map(s => s.state), ['undone', 'failed'])
      assert.deepEqual(outcome.undo, [])
      const record = readRun(outcome.log)!
      assert.equal(record.steps[1].applied, false)
      assert.deepEqual(openItems(record).undo, [])
      assert.equal(listRuns(dataDir, 'shop').length, 1)
    })

    describe('while the later change is work that runs on at Heroku and may end without effect (a release phase)', () => {
      const pending = {id: 'r1', version: 53, status: 'pending', description: 'Rollback to v50'}
      const settling: Step<string> = {
        ...rollback(async () => 'v53'),
        keepsRunning: () => ({running: 'The release phase of v53', settle: {kind: 'await-release', app: 'shop', id: 'r1', version: 53}, meanwhile: 'maintenance stays on.'}),
      }

      // Ctrl-C twice while the release phase runs: the run is left, with the release phase in its log.
      async function leftRunning() {
        const {run, interrupts, dataDir} = await runner()
        interrupts.install()
        try {
          nock(API).patch('/apps/shop', {maintenance: true}).reply(200, {})
          nock(API).get('/apps/shop/releases/r1').times(100).reply(200, pending)
          setTimeout(() => process.emit('SIGINT', 'SIGINT'), 150)
          setTimeout(() => process.emit('SIGINT', 'SIGINT'), 600)
          const outcome = await run.run([maintenanceOn('shop'), settling])
          nock.cleanAll()
          return {outcome, record: readRun(listRuns(dataDir, 'shop')[0].file)!}
        } finally {
          interrupts.uninstall()
        }
      }

      it('left running: nothing is to be put back by hand, no undo is claimed, and recovery:resume is the one way on', async () => {
        const {outcome, record} = await leftRunning()
        assert.equal(outcome.status, 'left')
        assert.deepEqual(outcome.steps.map(s => s.state), ['done', 'left running'])
        assert.deepEqual(outcome.finish, [`heroku recovery:resume ${outcome.run}`])
        assert.deepEqual(outcome.undo, [], 'neither the rollback\'s undo nor the kept change\'s: how it ends decides')
        assert.match(outcome.steps[0].note!, /kept while "Roll back" runs; should it end without effect, `heroku recovery:resume \S+` puts this back/)
        const json = recordJson(actions, record)
        assert.deepEqual(json.unfinished, ['Wait for the release phase of v53 to finish', 'Turn maintenance mode off, if the release phase of v53 ends without effect'])
        assert.deepEqual(json.finish, [`heroku recovery:resume ${record.id}`])
        assert.deepEqual(json.undo, [])
        assert.deepEqual(finishingSteps(actions, record).map(s => s.id), ['settle-rollback', 'undo-maintenance-on'])
      })

      it('recovery:resume puts the kept change back when the release phase failed', async () => {
        const {record} = await leftRunning()
        const {run} = await runner()
        nock(API).get('/apps/shop/releases/r1').reply(200, {...pending, status: 'failed'})
        nock(API).get('/apps/shop').reply(200, {maintenance: true})
        puttingBackMaintenance()
        const outcome = await run.run(finishingSteps(actions, record))
        assert.equal(outcome.status, 'succeeded')
        assert.deepEqual(outcome.steps.map(s => [s.state, s.note]), [
          ['done', 'v53 (Rollback to v50) failed: its release command did not succeed, so shop still runs the release before it'],
          ['done', undefined],
        ])
        assert.ok(nock.isDone(), 'maintenance was turned off')
      })

      it('recovery:resume keeps the kept change when the release phase succeeded', async () => {
        const {record} = await leftRunning()
        const {run} = await runner()
        nock(API).get('/apps/shop/releases/r1').reply(200, {...pending, status: 'succeeded'})
        // No maintenance request is answered: one would fail the step.
        const outcome = await run.run(finishingSteps(actions, record))
        assert.equal(outcome.status, 'succeeded')
        assert.deepEqual(outcome.steps.map(s => [s.state, s.note]), [
          ['done', 'v53 (Rollback to v50) succeeded: it is live'],
          ['done', 'not needed: the release phase of v53 took effect, and relies on it'],
        ])
      })
    })
  })

  it('Ctrl-C stops the wait in flight, runs no further step, and puts back what ran', async () => {
    const {run, interrupts} = await runner()
    interrupts.install()
    try {
      nock(API).patch('/apps/shop', {maintenance: true}).reply(200, {})
      puttingBackMaintenance()
      const ran: string[] = []
      const waiting: Step<void> = {id: 'wait', title: 'Wait for the dynos', apply: ({signal}) => sleep(10_000, signal)}
      setTimeout(() => process.emit('SIGINT', 'SIGINT'), 100)
      const started = Date.now()
      const outcome = await run.run([maintenanceOn('shop'), waiting, mark('later', ran), maintenanceOff('shop')])
      assert.ok(Date.now() - started < 5000)
      assert.equal(outcome.status, 'interrupted')
      assert.equal(outcome.signal, 'SIGINT')
      assert.deepEqual(outcome.steps.map(s => s.state), ['undone', 'interrupted', 'not run', 'not run'])
      assert.deepEqual(ran, [])
    } finally {
      interrupts.uninstall()
    }
  })

  it('Ctrl-C during work that Heroku carries on explains and waits; a second Ctrl-C leaves it all for recovery:resume', async () => {
    const {run, interrupts, said, dataDir} = await runner()
    interrupts.install()
    try {
      nock(API).patch('/apps/shop', {maintenance: true}).reply(200, {})
      nock('https://api.data.heroku.com').get('/client/v11/apps/shop/transfers/t1').times(100).reply(200, {uuid: 't1', num: 5, finished_at: null, from_type: 'gof3r', to_type: 'pg_restore'})
      const restore: Step<string> = {
        id: 'restore', title: 'Restore b002 into DATABASE', apply: async () => 't1',
        keepsRunning: () => ({running: 'Restore r005', settle: {kind: 'await-transfer', billingApp: 'shop', uuid: 't1', name: 'r005'}, meanwhile: 'DATABASE is being replaced.'}),
      }
      setTimeout(() => process.emit('SIGINT', 'SIGINT'), 150)
      setTimeout(() => process.emit('SIGINT', 'SIGINT'), 600)
      const outcome = await run.run([maintenanceOn('shop'), restore, maintenanceOff('shop')])
      assert.equal(outcome.status, 'left')
      assert.match(said.join('\n'), /Restore r005 is running at Heroku and cannot be stopped: DATABASE is being replaced\. Waiting for it to finish, then: turn maintenance mode off\. Press Ctrl-C again to leave now/)
      assert.deepEqual(outcome.steps.map(s => s.state), ['done', 'left running', 'not run'])
      assert.equal(outcome.finish[0], `heroku recovery:resume ${outcome.run}`)
      const record = readRun(listRuns(dataDir, 'shop')[0].file)!
      const open = openItems(record)
      assert.deepEqual([open.settle.map(s => s.id), open.undo.map(s => s.id)], [['restore'], ['maintenance-on']])
      assert.deepEqual(finishingSteps(actions, record).map(s => s.id), ['settle-restore', 'undo-maintenance-on'])
    } finally {
      interrupts.uninstall()
    }
  })

  describe('going on with a run another process began (recovery:resume --continue)', () => {
    // A run that died in its second step: the first done, the second started, the third not run.
    async function died(dataDir: string, second: {applied?: unknown}) {
      const {RunLog} = await import('../../src/lib/runner/log.js')
      const log = RunLog.begin(dataDir, {command: 'test', app: 'shop', what: 'a test run', steps: [{id: 'maintenance-on', title: 'Turn maintenance mode on'}, {id: 'switch', title: 'Step switch'}, {id: 'maintenance-off', title: 'Turn maintenance mode off'}]})
      const undo = maintenanceOn('shop').undo!(undefined)
      log.append({event: 'started', step: 'maintenance-on'})
      log.append({event: 'applied', step: 'maintenance-on', undo})
      log.append({event: 'done', step: 'maintenance-on'})
      log.append({event: 'started', step: 'switch'})
      if ('applied' in second) log.append({event: 'applied', step: 'switch', result: second.applied})
      const record = readRun(log.file)!
      // The process is gone.
      record.status = 'died'
      return record
    }

    it('skips what was done, reads back the step under way instead of repeating it, and finishes the rest in the same log', async () => {
      const {run, dataDir} = await runner()
      const record = await died(dataDir, {})
      const calls: string[] = []
      const switchStep: Step<string> = {
        id: 'switch', title: 'Step switch',
        apply: async () => {
          calls.push('apply')
          return 'sent again'
        },
        observe: async () => {
          calls.push('observe')
          return {applied: true, result: 'v53'}
        },
        then: async (_context, result) => {
          calls.push(`then ${result}`)
          return `${result} live`
        },
      }
      const scope = nock(API).patch('/apps/shop', {maintenance: false}).reply(200, {})
      const outcome = await run.run([maintenanceOn('shop'), switchStep, maintenanceOff('shop')], record)
      scope.done()
      assert.equal(outcome.status, 'succeeded')
      assert.deepEqual(calls, ['observe', 'then v53'])
      assert.equal(outcome.run, record.id, 'the same run goes on')
      assert.match(outcome.steps[1].note!, /read back: the run before had made its change/)
      const after = readRun(record.file)!
      assert.equal(after.status, 'succeeded')
      assert.deepEqual(after.steps.map(s => s.state), ['done', 'done', 'done'])
    })

    it('makes the change when reading back shows it was not made; takes the recorded result when the log has it', async () => {
      const {dataDir} = await runner()
      const made: string[] = []
      const step = (observed: boolean): Step<string> => ({
        id: 'switch', title: 'Step switch',
        apply: async () => {
          made.push('apply')
          return 'new'
        },
        observe: async () => observed ? {applied: true, result: 'seen'} : {applied: false},
        then: async (_context, result) => {
          made.push(`then ${result}`)
          return result
        },
      })
      nock(API).patch('/apps/shop', {maintenance: false}).times(2).reply(200, {})
      const notMade = await (await runner()).run.run([maintenanceOn('shop'), step(false), maintenanceOff('shop')], await died(dataDir, {}))
      assert.equal(notMade.status, 'succeeded')
      assert.deepEqual(made.splice(0), ['apply', 'then new'])
      const recorded = await (await runner()).run.run([maintenanceOn('shop'), step(false), maintenanceOff('shop')], await died(mkdtempSync(join(tmpdir(), 'runner-')), {applied: 'logged'}))
      assert.equal(recorded.status, 'succeeded')
      assert.deepEqual(made, ['then logged'], 'the change the log says exists is not made again')
    })

    it('a change the run before made, in a step it did not finish, is still owed its undo when going on fails at that step', async () => {
      const {run, dataDir} = await runner()
      const {RunLog} = await import('../../src/lib/runner/log.js')
      const log = RunLog.begin(dataDir, {command: 'test', app: 'shop', what: 'a test run', steps: [{id: 'batch', title: 'Step batch'}]})
      log.append({event: 'started', step: 'batch'})
      // Applied, with an undo, and no result the log could give back.
      log.append({event: 'applied', step: 'batch', undo: maintenanceOn('shop').undo!(undefined)})
      const record = readRun(log.file)!
      record.status = 'died'
      const scope = puttingBackMaintenance()
      const outcome = await run.run([{id: 'batch', title: 'Step batch', apply: async () => assert.fail('not made again'), observe: async () => {
        throw new Error('the API is down')
      }}], record)
      scope.done()
      assert.equal(outcome.status, 'failed')
      assert.match(outcome.error!, /Cannot go on with batch|the API is down/)
      assert.deepEqual(outcome.steps.map(s => s.state), ['undone'])
    })

    it('a failure while going on puts back what the run before did too, newest first, read back', async () => {
      const {run, dataDir} = await runner()
      const record = await died(dataDir, {})
      const scope = puttingBackMaintenance()
      const outcome = await run.run([maintenanceOn('shop'), {id: 'switch', title: 'Step switch', apply: async () => {
        throw new Error('it broke')
      }, observe: async () => ({applied: false})}, maintenanceOff('shop')], record)
      scope.done()
      assert.equal(outcome.status, 'failed')
      assert.deepEqual(outcome.steps.map(s => s.state), ['undone', 'failed', 'not run'])
    })
  })
})
