import type {Api} from '../api/client.js'
import {recentReleases} from '../api/releases.js'
import {isBackup, transferName} from '../api/postgres.js'
import {ageOf, formatDuration} from '../duration.js'
import {NeedsFlag} from '../errors.js'
import {Choice, choose, isInteractive} from '../prompts.js'
import type {RecoveryFacts} from './gather.js'
import type {TargetRequest} from './target.js'

// Neither --backup nor a time: in a terminal, explain both ways back and let the user pick.

function backupChoices(facts: RecoveryFacts): Choice<TargetRequest>[] {
  return facts.transfers.filter(isBackup).filter(t => t.finished_at)
    .sort((a, b) => Date.parse(b.finished_at!) - Date.parse(a.finished_at!)).slice(0, 5)
    .map(t => ({
      name: `Restore backup ${transferName(t)} (${formatDuration(ageOf(t.finished_at!))} old): loses everything written since ${t.finished_at}`,
      value: {kind: 'backup', ref: transferName(t)},
      disabled: t.succeeded ? false : 'did not complete',
    }))
}

async function timeChoices(api: Api, facts: RecoveryFacts): Promise<Choice<TargetRequest>[]> {
  if (!facts.rollbackEarliest) return []
  const releases = await recentReleases(api, facts.app, 3)
  return releases.map(r => ({
    name: `Roll back to one minute before v${r.version} (${r.description}, ${formatDuration(ageOf(r.created_at))} ago) into a new database: loses everything since then`,
    value: {kind: 'time', beforeRelease: `v${r.version}`},
    disabled: Date.parse(r.created_at) - 60_000 < facts.rollbackEarliest!.getTime() ? 'outside the rollback window' : false,
  }))
}

export async function chooseTarget(api: Api, facts: RecoveryFacts): Promise<TargetRequest> {
  if (!isInteractive()) throw new NeedsFlag('Choosing how to recover', '--backup ID, --to TIME, --by DURATION or --before-release vN')
  const window = facts.rollbackEarliest
    ? `Point-in-time rollback reaches back to ${facts.rollbackEarliest.toISOString()} (or use --to TIME).`
    : `${facts.database.plan} has no point-in-time rollback: only backups.`
  process.stderr.write(`${window}\n`)
  const choices = [...backupChoices(facts), ...await timeChoices(api, facts)]
  return choose('How do you want to recover?', choices, '--backup ID or --to TIME')
}
