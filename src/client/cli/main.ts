#!/usr/bin/env node
/**
 * `floe`, the command line on the typed client (docs/cli.md): tables,
 * describe, create, write, tail, lookup, scan, partitions, snapshots, tier. The server
 * comes from `--url` or `FLOE_URL` (default http://localhost:8787), the
 * token from `--token` or `FLOE_TOKEN`. Every command takes `--help`.
 *
 * Exit codes: 0 done; 1 the server refused (its code and message on
 * stderr) or could not be reached; 2 a usage error.
 */
import { parseArgs } from "node:util";
import { FloeError } from "../errors.ts";
import { commands, type Command } from "./commands.ts";
import { UsageError } from "./usage.ts";

const globalOptions = {
  url: { type: "string" },
  token: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

function overview(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  return [
    "usage: floe <command> [arguments] [--url URL] [--token TOKEN]",
    "",
    ...Object.entries(commands).map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`),
    "",
    "The server is --url or FLOE_URL (default http://localhost:8787); the token --token or FLOE_TOKEN.",
    "`floe <command> --help` tells more. Docs: docs/cli.md.",
  ].join("\n");
}

function help(name: string, command: Command): string {
  const options = Object.entries(command.options ?? {}).map(([option, spec]) => `  --${option}${spec.type === "string" ? ` ${spec.value ?? "VALUE"}` : ""}  ${spec.help}`);
  return [`usage: floe ${name} ${command.usage}`, "", command.summary, ...(command.details ? ["", command.details] : []), "", "options:", ...options, "  --url URL  the server (FLOE_URL; default http://localhost:8787)", "  --token TOKEN  a bearer token (FLOE_TOKEN)", "  --help  this text"].join("\n");
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(overview());
    return name === undefined ? 2 : 0;
  }
  const command = Object.hasOwn(commands, name) ? commands[name as keyof typeof commands] : undefined;
  if (command === undefined) {
    console.error(`floe: unknown command '${name}'\n\n${overview()}`);
    return 2;
  }
  let parsed;
  try {
    const options = Object.fromEntries(Object.entries(command.options ?? {}).map(([option, spec]) => [option, spec.short === undefined ? { type: spec.type } : { type: spec.type, short: spec.short }]));
    parsed = parseArgs({ args: rest, options: { ...globalOptions, ...options }, allowPositionals: true, strict: true });
  } catch (error) {
    console.error(`floe ${name}: ${(error as Error).message}\n\n${help(name, command)}`);
    return 2;
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help) {
    console.log(help(name, command));
    return 0;
  }
  const url = (values.url as string | undefined) ?? process.env.FLOE_URL ?? "http://localhost:8787";
  const token = (values.token as string | undefined) ?? process.env.FLOE_TOKEN ?? undefined;
  try {
    return (await command.run({ url, token: token === "" ? undefined : token, args: parsed.positionals, options: values })) ?? 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`floe ${name}: ${error.message}\n\n${help(name, command)}`);
      return 2;
    }
    const message = error instanceof FloeError ? error.toString() : error instanceof Error ? error.message : String(error);
    console.error(`floe ${name}: ${message}`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
