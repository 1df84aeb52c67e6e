import {GuardedCommand} from '../../lib/command.js'
import {describeRecord, recordJson, unreadableWarning} from '../../lib/runner/history.js'
import {Refused, SafeRollbackError} from '../../lib/errors.js'
import {actions} from '../../lib/registry.js'
import {findRun, listRuns, readEvents, type RunRecord} from '../../lib/runner/log.js'
import {Args, flags} from '../../lib/heroku.js'

export default class RecoveryLog extends GuardedCommand {
  static override description = `list what this plugin's commands did on this machine, newest first
Every run of safe-rollback, db:recover and migrate:down is recorded step by step under the CLI's data
directory, as it happens, so that a run cut short (Ctrl-C twice, a dropped SSH session, a killed
process) can be seen and finished with recovery:resume. --format markdown prints one run as a timeline
for the postmortem; --notify sends its events that did not arrive (or, for a run that notified nobody,
its events now).`

  static override examples = [
    '<%= config.bin %> recovery:log --app my-app',
    '<%= config.bin %> recovery:log 261125-221530-ab12',
    '<%= config.bin %> recovery:log 261125-221530-ab12 --format markdown',
    '<%= config.bin %> recovery:log 261125-221530-ab12 --notify pagerduty',
    '<%= config.bin %> recovery:log --json',
  ]

  static override args = {
    run: Args.string({description: 'one run to show, as the list or a command\'s final message names it'}),
  }

  static override flags = {
    app: flags.string({char: 'a', description: 'only the runs on this app'}),
    limit: flags.integer({description: 'how many runs to show', default: 20, min: 1}),
    format: flags.string({description: 'with RUN: text, or the run as a timeline for the postmortem (markdown, or json)', options: ['text', 'markdown', 'json'], default: 'text'}),
    notify: flags.string({description: 'with RUN: send the run\'s events this sink did not get (pagerduty, slack, datadog or an http(s):// URL; repeatable)', multiple: true}),
  }

  override async run() {
    const {args, flags} = await this.parse(RecoveryLog)
    if (!args.run && (flags.format !== 'text' || flags.notify)) throw new Refused(`--${flags.notify ? 'notify' : 'format'} is about one run: give its id (\`heroku recovery:log\` lists them).`)
    if (args.run) {
      const record = findRun(this.config.dataDir, args.run)
      if (!record) throw new Refused(`No run ${args.run} on this machine: \`heroku recovery:log\` lists them.`)
      const unreadable = unreadableWarning(record)
      if (unreadable) this.warn(unreadable)
      const shown = flags.format === 'text' ? this.text(record) : await this.timeline(record, flags.format)
      if (flags.notify) await this.sendAgain(record, flags.notify)
      return shown
    }
    const runs = listRuns(this.config.dataDir, flags.app).slice(0, flags.limit)
    if (runs.length === 0) this.log(`No runs recorded${flags.app ? ` on ${flags.app}` : ''} on this machine.`)
    for (const run of runs) {
      const unreadable = unreadableWarning(run)
      if (unreadable) this.warn(unreadable)
      this.log(describeRecord(actions, run) + '\n')
    }
    return runs.map(run => recordJson(actions, run))
  }

  private text(record: RunRecord) {
    this.log(describeRecord(actions, record))
    return recordJson(actions, record)
  }

  private async timeline(record: RunRecord, format: string) {
    const {timelineMarkdown, timelineOf} = await import('../../lib/notify/timeline.js')
    const timeline = timelineOf(actions, record, readEvents(record.file).events)
    if (format === 'markdown') this.log(timelineMarkdown(timeline))
    else if (!this.jsonEnabled()) this.logJson(timeline)
    return timeline
  }

  // Each sink gets, in order, the events it did not; a sink that still does not take them fails the command.
  private async sendAgain(record: RunRecord, targets: string[]) {
    const [{resolveSinks}, {noticesOf, sendAgain}] = await Promise.all([import('../../lib/notify/index.js'), import('../../lib/notify/resend.js')])
    const problems: string[] = []
    const sinks = resolveSinks([...new Set(targets.filter(t => t !== 'none'))], process.env, problem => problems.push(problem))
    const notices = noticesOf(record, recordJson(actions, record))
    const failures = [...problems]
    const say = (text: string) => this.progress.say(text)
    for (const sink of sinks) {
      const resent = await sendAgain(record, notices, sink)
      if (resent.sent.length > 0) say(`Sent to ${resent.label}: ${resent.sent.join(', ')}.`)
      for (const skipped of resent.skipped) say(`Not sent to ${resent.label} again: ${skipped}; no answer came when it was sent, so it may be there already, and it would show twice.`)
      if (resent.sent.length + resent.skipped.length + resent.failed.length === 0) say(`Nothing to send to ${resent.label}: it has every event of run ${record.id}.`)
      if (resent.failed.length > 0) failures.push(`${resent.label} did not take ${resent.failed.map(f => f.id).join(', ')} (${resent.failed.at(-1)!.why})`)
    }
    if (failures.length > 0) throw new SafeRollbackError(failures.join('; '), 'What was not delivered stays recorded in the run log: the same command sends it again.')
  }
}
