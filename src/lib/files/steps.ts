import {Aborted, sleep} from '../abort.js'
import {messageOf} from '../errors.js'
import {type ActionOf, CLOCK_SKEW_MS} from '../runner/actions.js'
import {revertCounts} from './actions.js'
import type {BuildersOf, Planned} from '../runner/plan.js'
import type {Step} from '../runner/step.js'
import {bucketIn} from './gather.js'
import {type BucketLocator, type BucketRef, locatorOf} from './bucket.js'
import type {FileAction} from './plan.js'
import {CONCURRENCY, copiesMade, type CopyTrace, pool} from './revert.js'
import {type Bucket, isThrottled, S3Failure} from './s3.js'

declare module '../runner/plan.js' {
  interface StepKinds {
    // One batch of files:recover: what to do to each of these files (keys, version and marker ids).
    'files-batch': {app: string, bucket: BucketLocator, actions: FileAction[], first: number, total: number}
  }
}

// files:recover's changes as runner steps: the actions in batches, each batch applied with bounded
// concurrency (the SDK retries S3's throttling). Each batch records every delete marker it removed and
// every version it created; its undo, as data in the run log, puts a delete marker back on each key it
// undeleted and removes each version it created, which leaves every key exactly as it was. Before a batch
// starts, the run log gets the undo of all it may change (its keys, their markers, the copies it would
// make): a process killed half-way through the batch leaves that, and recovery:resume reads the bucket to
// revert whatever part of the batch was made.

export const BATCH_SIZE = 250
// A copy S3 turned away for the rate is sent again up to this many times in all (after reading the key back).
const COPY_ATTEMPTS = 6


export interface BatchResult {
  // Keys undeleted by removing their delete markers (the marker version ids removed).
  markersRemoved: RevertAction['markers']
  // Versions created by copying an older one back.
  versionsCreated: {key: string, versionId: string, from: string}[]
  // Copies with no answer that reading the key back could not confirm: S3 may still make them; the undo
  // looks for them by reading the key.
  unsure: CopyTrace[]
  failed: {key: string, error: string}[]
  // Ctrl-C came before every action of the batch was started.
  stopped: boolean
  // When the batch began (ms since the epoch): an unsure copy was made after it.
  startedAt: number
}

export type RevertAction = ActionOf<'files-revert'>

type Copy = Extract<FileAction, {kind: 'copy'}>

const traceOf = ({key, versionId, latest, etag, size}: Copy): CopyTrace =>
  ({key, from: versionId, latest, ...(etag === undefined ? {} : {etag}), ...(size === undefined ? {} : {size})})

export function revertAction(app: string, bucket: BucketLocator, result: BatchResult): RevertAction {
  return {
    kind: 'files-revert', app, bucket, markers: result.markersRemoved, versions: result.versionsCreated.map(({key, versionId}) => ({key, versionId})),
    ...(result.unsure.length > 0 ? {copies: result.unsure, since: result.startedAt - CLOCK_SKEW_MS} : {}),
  }
}

// The undo of a whole batch, before it runs: every key it may undelete, every copy it may make.
export function plannedRevert(app: string, bucket: BucketLocator, batch: FileAction[], startedAt: number): RevertAction {
  return {
    kind: 'files-revert', app, bucket, versions: [], since: startedAt - CLOCK_SKEW_MS,
    markers: batch.flatMap(a => a.kind === 'undelete' ? [{key: a.key, versionIds: a.markers, unsure: true}] : []),
    copies: batch.flatMap(a => a.kind === 'copy' ? [traceOf(a)] : []),
  }
}

const readBackSignal = () => AbortSignal.timeout(15_000)

// A write whose answer did not come (a timeout, a lost connection, a 5xx) may have been made.
const inDoubt = (error: unknown) => error instanceof S3Failure && error.applied === 'unknown'

// One action; when its outcome is in doubt (cut off by Ctrl-C, no answer), the key is read back.
async function perform(bucket: Bucket, action: FileAction, result: BatchResult, writeSignal: AbortSignal) {
  if (action.kind === 'copy') return copyBack(bucket, action, result, writeSignal)
  // The newest marker first: the key stays deleted until the last one goes.
  const gone: string[] = []
  for (const marker of action.markers) {
    try {
      await bucket.deleteVersion(action.key, marker, {signal: writeSignal})
    } catch (error) {
      let removed = false
      if (writeSignal.aborted || inDoubt(error)) {
        try {
          removed = !(await bucket.keyVersions(action.key, {signal: readBackSignal()})).some(v => v.versionId === marker)
        } catch {
          // Not known: the undo reads the key.
          result.markersRemoved.push({key: action.key, versionIds: action.markers, unsure: true})
          throw error
        }
      }
      // Read back as removed, the answer was lost, not the change: on to the next marker.
      if (!removed) {
        if (gone.length > 0) result.markersRemoved.push({key: action.key, versionIds: gone})
        throw error
      }
    }
    gone.push(marker)
  }
  result.markersRemoved.push({key: action.key, versionIds: gone})
}

// A copy back, never sent twice blindly: after a failure the key is read back; the copy is sent again only
// when S3 turned it away for the rate and the key shows it was not made.
async function copyBack(bucket: Bucket, action: Copy, result: BatchResult, writeSignal: AbortSignal) {
  const trace = traceOf(action)
  for (let attempt = 1; ; attempt++) {
    try {
      const versionId = await bucket.copyBack(action.key, action.versionId, {signal: writeSignal})
      result.versionsCreated.push({key: action.key, versionId, from: action.versionId})
      return
    } catch (error) {
      let made: string | undefined
      try {
        [made] = copiesMade(await bucket.keyVersions(action.key, {signal: readBackSignal()}), trace)
      } catch {
        result.unsure.push(trace)
        throw error
      }
      if (made) {
        result.versionsCreated.push({key: action.key, versionId: made, from: action.versionId})
        return
      }
      if (writeSignal.aborted || !isThrottled(error) || attempt === COPY_ATTEMPTS) {
        // Not made yet; one that got no answer may still be made, later.
        if (writeSignal.aborted || inDoubt(error)) result.unsure.push(trace)
        throw error
      }
      await sleep(Math.min(8000, 250 * 2 ** attempt * (0.5 + Math.random())), writeSignal)
    }
  }
}

// The plan's batches: BATCH_SIZE files each, in the order the listing found them.
export function planBatches(app: string, ref: BucketRef, actions: FileAction[]): Planned[] {
  const bucket = locatorOf(ref)
  const batches: Planned[] = []
  for (let first = 0; first < actions.length; first += BATCH_SIZE) {
    batches.push({id: `files-${batches.length + 1}`, kind: 'files-batch', app, bucket, actions: actions.slice(first, first + BATCH_SIZE), first: first + 1, total: actions.length})
  }
  return batches
}

export const recoverFileSteps: BuildersOf<'files-batch'> = {
  'files-batch'({app, bucket: locator, actions: batch, first, total}): Omit<Step<BatchResult>, 'id'> {
    const undeletes = batch.filter(a => a.kind === 'undelete').length
    const copies = batch.length - undeletes
    const what = [undeletes ? `undelete ${undeletes}` : '', copies ? `copy back ${copies}` : ''].filter(Boolean).join(', ')
    return {
      title: `Recover files ${first}-${first + batch.length - 1}${total > batch.length ? ` of ${total}` : ''} (${what})`,
      async apply(context) {
        const {signal, writeSignal, status} = context
        const bucket = await bucketIn(context, app, locator)
        const result: BatchResult = {markersRemoved: [], versionsCreated: [], unsure: [], failed: [], stopped: false, startedAt: Date.now()}
        let done = 0
        await pool(batch, CONCURRENCY, async action => {
          if (signal.aborted) {
            result.stopped = true
            return
          }
          try {
            await perform(bucket, action, result, writeSignal)
          } catch (error) {
            if (writeSignal.aborted || signal.aborted) result.stopped = true
            else result.failed.push({key: action.key, error: messageOf(error)})
          }
          status(`${++done} of ${batch.length}`)
        })
        return result
      },
      // The batch's changes exist from here on (its undo is due if the run stops): a partial batch
      // is reported as what it is.
      async then(_context, result) {
        if (result.stopped) throw new Aborted()
        if (result.failed.length > 0) {
          throw new Error(`${result.failed.length} of ${batch.length} files could not be recovered; the first, ${result.failed[0].key}: ${result.failed[0].error}`)
        }
        return result
      },
      undo(result, run = 'RUN') {
        const undeleted = result?.markersRemoved.length ?? undeletes
        const created = result?.versionsCreated.length ?? copies
        const unsure = result?.unsure.length ?? 0
        return {
          title: `Put these files back as they were (${revertCounts(undeleted, created, unsure)})`,
          command: `heroku files:recover --app ${app} --undo ${run}`,
          action: result ? revertAction(app, locator, result) : undefined,
          automatic: true,
        }
      },
      // Logged before the batch starts: if the process dies half-way, this puts back what was made.
      undoPartial: run => ({
        title: `Put these files back as they were (whatever of these ${batch.length} was changed, read from the bucket)`,
        command: `heroku files:recover --app ${app} --undo ${run}`,
        action: plannedRevert(app, locator, batch, Date.now()),
        automatic: true,
      }),
      done: result => `${result.markersRemoved.length} undeleted, ${result.versionsCreated.length} copied back`,
    }
  },
}

