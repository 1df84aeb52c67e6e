import assert from 'node:assert/strict'
import type {Fault} from '../../src/sandbox/server/faults.js'
import {Flow, runFlow, Seeded} from './flows.js'
import type {Result} from './heroku.js'
import {sandbox} from './sandbox.js'

// The fault matrix: every write of every flow meets each way a request can fail (an error before
// it is applied, an error after, a connection lost before or after, a hang), once and then for good;
// and reads fail with 503 and 429. After each run the sandbox's state is read back and held against
// the flow's invariants (see flows.ts). Cases run a few at a time, each on an app of its own.

const ONCE: Fault[] = [
  {kind: 'status', status: 503},
  {kind: 'status', status: 500, apply: true},
  {kind: 'reset', when: 'before'},
  {kind: 'reset', when: 'after'},
  {kind: 'hang', when: 'after'},
]

const FOR_GOOD: Fault[] = [
  {kind: 'status', status: 503, times: Infinity},
  {kind: 'reset', when: 'after', times: Infinity},
]

const label = (fault: Fault) => `${fault.kind}${'status' in fault ? ` ${fault.status}` : ''}${'when' in fault ? ` ${fault.when}` : ''}${'apply' in fault && fault.apply ? ' (applied)' : ''}${fault.times === Infinity ? ', every time' : ''}`

// What went wrong, from the command's own --json document: its error and the state of each step.
function explain(result: {stdout: string, stderr: string}) {
  try {
    const {error, run} = JSON.parse(result.stdout)
    const steps = (run?.steps ?? []).map((s: any) => `${s.id}:${s.state}${s.error ? ` (${s.error})` : ''}`).join(', ')
    return `${result.stderr.slice(-600)}\nerror: ${JSON.stringify(error)}\nsteps: ${steps}`
  } catch {
    return `${result.stderr.slice(-600)}\n${result.stdout.slice(0, 600)}`
  }
}

// Runs the cases `width` at a time; each is seeded, faulted and checked on its own app.
async function inBatches<T>(items: T[], width: number, work: (item: T) => Promise<void>) {
  const failures: string[] = []
  for (let i = 0; i < items.length; i += width) {
    await Promise.all(items.slice(i, i + width).map(item => work(item).catch(error => {
      failures.push(String((error as Error).message).split('\n').slice(0, 40).join('\n'))
    })))
  }
  assert.deepEqual(failures, [], `${failures.length} of ${items.length} cases failed`)
}

// One case: seed an app, inject the fault, run the flow, and hold the outcome against `expect`; a failure
// names the case and carries the command's own account of what happened.
async function runCase(flow: Flow, name: string, fault: (seeded: Seeded) => Fault, expect: (hits: number, result: Result, document: any, seeded: Seeded) => Promise<void>) {
  const seeded = await flow.seed()
  const injected = sandbox().inject(fault(seeded))
  const {result, document} = await runFlow(flow, seeded)
  injected.remove()
  try {
    await expect(injected.hits, result, document, seeded)
  } catch (error) {
    throw new Error(`${name}: ${(error as Error).message}\n${explain(result)}`)
  }
}

// A single failure is absorbed at every write: a read is read again, an idempotent write sent again, and
// any other write read back first, then sent again only if it did not happen.
export function matrix(flow: Flow) {
  let casesRun = 0
  const counted = (work: () => Promise<void>) => work().finally(() => casesRun++)
  describe(`faults at every request: ${flow.name}`, function () {
    this.timeout(15 * 60_000)
    afterEach(() => sandbox().clearFaults())
    after(() => process.stdout.write(`      (fault matrix: ${casesRun} cases)\n`))

    it(`survives one failure of each kind at each write (${flow.writes.length} writes x ${ONCE.length} kinds)`, async () => {
      const cases = flow.writes.flatMap(write => ONCE.map(fault => ({write, fault})))
      await inBatches(cases, 4, ({write, fault}) => counted(() => runCase(flow, `${write.label} / ${label(fault)}`,
        seeded => ({...write.fault(seeded), ...fault}) as Fault,
        async (hits, result, document, seeded) => {
          assert.equal(hits, 1, 'the fault was met')
          await flow.check(seeded, result, document)
          assert.equal(result.code, 0, 'a single passing failure is absorbed')
        })))
    })

    it(`tells the truth when a write fails for good (${flow.writes.length} writes x ${FOR_GOOD.length} kinds)`, async () => {
      const cases = flow.writes.flatMap(write => FOR_GOOD.map(fault => ({write, fault})))
      await inBatches(cases, 4, ({write, fault}) => counted(() => runCase(flow, `${write.label} / ${label(fault)}`,
        seeded => ({...write.fault(seeded), ...fault}) as Fault,
        async (hits, result, document, seeded) => {
          assert.ok(hits >= 1, 'the fault was met')
          await flow.check(seeded, result, document)
        })))
    })

    it('reads are retried with back-off: a 503 at any of the first reads, or a 429 with Retry-After, changes nothing', async () => {
      const faults: Fault[] = [
        ...Array.from({length: 10}, (_, i) => ({kind: 'status', status: 503, method: 'GET', nth: i + 1}) as Fault),
        {kind: 'status', status: 429, method: 'GET', nth: 2, headers: {'Retry-After': '1'}},
        {kind: 'reset', when: 'before', method: 'GET', nth: 3},
      ]
      await inBatches(faults, 4, fault => counted(() => runCase(flow, `GET #${fault.nth} / ${label(fault)}`,
        seeded => ({...fault, app: seeded.name}),
        async (hits, result, document, seeded) => {
          assert.equal(hits, 1, 'the fault was met')
          assert.equal(result.code, 0, 'a read that fails once is read again')
          await flow.check(seeded, result, document)
        })))
    })
  })
}
