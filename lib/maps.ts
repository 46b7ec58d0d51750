// A map of lists: append in place (a copy per append would make building a big lab quadratic).
export function pushTo<K, V>(map: Map<K, V[]>, key: K, ...values: V[]): void {
    const list = map.get(key);
    if (list) list.push(...values);
    else map.set(key, [...values]);
}
