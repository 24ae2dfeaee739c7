// Test helper (unit tests of the worker and the validator): the same object, with its method calls counted by name.

export function countedCalls<T extends object>(
  inner: T,
): { readonly counted: T; readonly calls: Record<string, number> } {
  const calls: Record<string, number> = {};
  const counted = new Proxy(inner, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls[String(name)] = (calls[String(name)] ?? 0) + 1;
        return value.apply(target, args);
      };
    },
  });
  return { counted, calls };
}
