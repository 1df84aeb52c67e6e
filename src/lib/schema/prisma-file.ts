// A reader for the parts of the Prisma schema language the schema gate needs: model, view and enum
// blocks, their fields or values, and their attributes. Prisma's grammar is line-based (one field, value
// or block attribute per line), which keeps this small; a maintained parser (@mrleebo/prisma-ast) cost
// ~600 ms of CPU to load in every run, and searches the working folder for config files to load.

export interface Attribute {
  // 'map', 'db.VarChar', '@map' for a block attribute (@@map).
  name: string
  // The arguments as written, split at top-level commas: '"users"', 'fields: [authorId]', '50'.
  args: string[]
}

export interface Member {
  name: string
  // For fields: the type without ? and [] ('String', 'Status', 'Unsupported("tsvector")').
  type?: string
  optional: boolean
  list: boolean
  attributes: Attribute[]
}

export interface Block {
  kind: 'model' | 'view' | 'enum' | 'type'
  name: string
  members: Member[]
  attributes: Attribute[]
}

// The value of a string argument ('"users"' or 'name: "users"'), or undefined.
export function stringArg(attribute: Attribute | undefined, key?: string): string | undefined {
  const arg = attribute?.args.find(a => key ? new RegExp(`^${key}\\s*:`).test(a) : !/^\w+\s*:/.test(a))
  const value = arg && (key ? arg.replace(new RegExp(`^${key}\\s*:\\s*`), '') : arg)
  return value && /^"((?:[^"\\]|\\.)*)"$/.exec(value)?.[1]?.replace(/\\(.)/g, '$1')
}

export function parsePrismaSchema(text: string): Block[] {
  const blocks: Block[] = []
  let block: Block | undefined
  for (const raw of text.split(/\r?\n/)) {
    const line = withoutComment(raw).trim()
    if (!line) continue
    if (!block) {
      const opened = /^(model|view|enum|type)\s+(\w+)\s*\{$/.exec(line)
      if (opened) block = {kind: opened[1] as Block['kind'], name: opened[2], members: [], attributes: []}
      continue
    }
    if (line === '}') {
      blocks.push(block)
      block = undefined
    } else if (line.startsWith('@@')) {
      block.attributes.push(...attributesOf(line.slice(1)).map(a => ({...a, name: `@${a.name}`})))
    } else if (block.kind === 'enum') {
      const value = /^(\w+)(.*)$/.exec(line)
      if (value) block.members.push({name: value[1], optional: false, list: false, attributes: attributesOf(value[2])})
    } else {
      const field = /^(\w+)\s+(Unsupported\("(?:[^"\\]|\\.)*"\)|[\w.]+)(\[\])?(\?)?(.*)$/.exec(line)
      if (field) block.members.push({name: field[1], type: field[2], list: Boolean(field[3]), optional: Boolean(field[4]), attributes: attributesOf(field[5])})
    }
  }
  if (block) throw new Error(`the block ${block.kind} ${block.name} is not closed`)
  return blocks
}

// A line without its `//` comment; `//` inside a string stays.
function withoutComment(line: string): string {
  let inString = false
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '\\' && inString) i++
    else if (line[i] === '"') inString = !inString
    else if (!inString && line[i] === '/' && line[i + 1] === '/') return line.slice(0, i)
  }
  return line
}

// `@id @default(autoincrement()) @db.VarChar(50) @map("x")` as attributes with their arguments.
function attributesOf(text: string): Attribute[] {
  const attributes: Attribute[] = []
  let i = 0
  while (i < text.length) {
    const at = text.indexOf('@', i)
    if (at === -1) break
    const name = /^@([\w.]+)/.exec(text.slice(at))
    if (!name) break
    i = at + name[0].length
    let args: string[] = []
    if (text[i] === '(') {
      const end = closing(text, i)
      args = splitTopLevel(text.slice(i + 1, end))
      i = end + 1
    }
    attributes.push({name: name[1], args})
  }
  return attributes
}

// Walks the text from `from`, outside strings, with the bracket depth after each character; stops
// where `stop` says so and returns that index (or the text's length).
function walk(text: string, from: number, stop: (c: string, i: number, depth: number) => boolean | void): number {
  let depth = 0
  let inString = false
  for (let i = from; i < text.length; i++) {
    const c = text[i]
    if (inString) {
      if (c === '\\') i++
      else if (c === '"') inString = false
      continue
    }
    if (c === '"') inString = true
    else if (c === '(' || c === '[') depth++
    else if (c === ')' || c === ']') depth--
    if (stop(c, i, depth)) return i
  }
  return text.length
}

const closing = (text: string, open: number) => walk(text, open, (c, _, depth) => (c === ')' || c === ']') && depth === 0)

function splitTopLevel(text: string): string[] {
  const parts: string[] = []
  let start = 0
  walk(text, 0, (c, i, depth) => {
    if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i).trim())
      start = i + 1
    }
  })
  const last = text.slice(start).trim()
  return last ? [...parts, last] : parts
}
