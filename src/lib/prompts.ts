import {color} from '@heroku-cli/color'
import {Cancelled, NeedsFlag, Refused} from './errors.js'
import {forTerminal, printable} from './names.js'

// Every question the plugin asks goes through here, so that each one has a flag for scripts
// and no prompt is ever attempted without a terminal.

export const isInteractive = () => Boolean(process.stdin.isTTY && process.stderr.isTTY)

const isPromptExit = (error: unknown) => (error as Error)?.name === 'ExitPromptError' || /SIGINT|force closed/i.test(String((error as Error)?.message))

async function ask<T>(question: Record<string, unknown>): Promise<T> {
  const {default: inquirer} = await import('inquirer')
  const prompt = inquirer.createPromptModule({output: process.stderr})
  try {
    const answers = await prompt([{name: 'answer', ...question}] as any)
    return (answers as {answer: T}).answer
  } catch (error) {
    if (isPromptExit(error)) throw new Cancelled()
    throw error
  }
}

// The destructive-action gate: type the app name, or pass `--confirm APP`.
export async function confirmApp(app: string, confirmation: string | undefined, warning: string): Promise<void> {
  if (confirmation !== undefined) {
    if (confirmation === app) return
    throw new Refused(`Confirmation "${confirmation}" did not match ${app}.`)
  }
  if (!isInteractive()) throw new NeedsFlag('Confirmation', `--confirm ${app}`)
  process.stderr.write(forTerminal(`${warning}\n\n`, color.level > 0))
  const typed = await ask<string>({type: 'input', message: `To proceed, type ${app} or re-run this command with --confirm ${app}`})
  if (typed.trim() !== app) throw new Refused(`Confirmation "${typed.trim()}" did not match ${app}.`)
}

export interface Choice<T> {
  name: string
  value: T
  disabled?: string | boolean
}

// `asking`: what a refusal without a terminal names, when not the question itself; `note`: a line said before the list.
export async function choose<T>(message: string, choices: Choice<T>[], flag: string, suggested?: T, options: {asking?: string, note?: string} = {}): Promise<T> {
  if (!isInteractive()) throw new NeedsFlag(options.asking ?? message, flag)
  if (options.note) process.stderr.write(forTerminal(`${options.note}\n`, color.level > 0))
  // A choice is one line of the list, made of names (release descriptions, authors): escaped.
  const shown = choices.map(choice => ({...choice, name: printable(choice.name), disabled: typeof choice.disabled === 'string' ? printable(choice.disabled) : choice.disabled}))
  return ask<T>({type: 'list', message, choices: shown, default: suggested, pageSize: 12, loop: false})
}

export async function yesNo(message: string, flag: string, defaultAnswer = false): Promise<boolean> {
  if (!isInteractive()) throw new NeedsFlag(message, flag)
  return ask<boolean>({type: 'confirm', message, default: defaultAnswer})
}

// The questions library code may ask, passed in (heroku-cli-util style), so that tests and scripts can
// answer them; these are the real ones.
export interface Prompts {
  interactive(): boolean
  choose: typeof choose
  yesNo: typeof yesNo
}

export const prompts: Prompts = {interactive: isInteractive, choose, yesNo}
