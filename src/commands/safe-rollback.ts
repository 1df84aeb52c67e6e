import {Command} from '@heroku-cli/command'

export default class SafeRollback extends Command {
  static override description = 'roll an app back to a stable release, safely'
  override async run() {
    this.log('todo')
  }
}
