// Shell quoting: one helper for every value that reaches a shell. Components prefer to
// pass values as environment variables and refer to them as "$VAR"; where a value must
// sit in the command text, it goes through quote().

/** POSIX single-quoting: safe for any string, including quotes and newlines. */
export function quote(value: string | number): string {
    const s = String(value);
    if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
    return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A script that stops at the first failing line and on unset variables. */
export function script(...lines: string[]): string {
    return ["set -eu", ...lines].join("\n");
}
