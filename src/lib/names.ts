import {Refused} from './errors.js'

// Names that end up in API paths, checked before any request: a `?`, `/` or `..` in them would
// silently address another resource (`v50/../51` is release 51).

const APP_NAME = /^[a-z][a-z0-9-]{0,29}$/
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const RELEASE_VERSION = /^v?\d{1,10}$/i

export const isAppName = (app: string) => APP_NAME.test(app) || UUID.test(app)

export const isReleaseRef = (ref: string) => RELEASE_VERSION.test(ref) || UUID.test(ref)

// Heroku app names, or an app's id, which the API takes in the same place.
export function assertAppName(app: string): void {
  if (!isAppName(app)) {
    throw new Refused(`${JSON.stringify(app)} is not a Heroku app name: use lowercase letters, digits and dashes, starting with a letter (at most 30), or the app's id.`)
  }
}

// `v50`, `50` or a release id; nothing to check when no release was given.
export function assertReleaseRef(ref: string | undefined, label = 'Release'): void {
  if (ref !== undefined && !isReleaseRef(ref)) throw new Refused(`${label} ${JSON.stringify(ref)} is not a release: use v50, 50 or a release id.`)
}

// A name read from a database, an S3 key, a string from the API, as the terminal and comment lines may
// show it: control characters (a newline, an escape sequence that clears the screen, C1 controls such as
// CSI \u009b) are written as \n or \u001b, never sent raw.
export const printable = (name: string) => name.replace(/[\u0000-\u001F\u007F-\u009F]/g, ch =>
  ch === '\n' ? '\\n' : ch === '\r' ? '\\r' : ch === '\t' ? '\\t' : `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`)

// Colour as the plugin writes it (@heroku-cli/color): Select Graphic Rendition, ESC [ digits m.
const COLOUR = '\u001B\\[[0-9;]*m'
const TERMINAL_CONTROLS = new RegExp(`${COLOUR}|\\r(?!\\n)|[\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]`, 'g')

// Text on its way to the terminal, at the one place each command writes it (command.ts): every control
// character is escaped but the line breaks and tabs of the text itself, and colour when colour is on, so
// that a name nobody passed through `printable` can at worst be coloured, never clear the screen, move
// the cursor, set the title or write over a line. A newline inside a name cannot be told from a line
// break here: lines made of names pass them through `printable` where they are built (render/).
export const forTerminal = (text: string, colour: boolean) =>
  text.replace(TERMINAL_CONTROLS, match => match.length > 1 && colour ? match : printable(match))
