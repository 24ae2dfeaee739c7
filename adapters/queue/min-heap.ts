/** Binary min-heap; the memory queue keeps hidden messages in one, ordered by the time they become visible. */
export class MinHeap<T> {
  private readonly items: T[] = [];

  constructor(private readonly compare: (a: T, b: T) => number) {}

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const items = this.items;
    items.push(item);
    let index = items.length - 1;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = items[parentIndex];
      if (parent === undefined || this.compare(item, parent) >= 0) break;
      items[index] = parent;
      index = parentIndex;
    }
    items[index] = item;
  }

  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let smallest = index;
      let smallestItem = last;
      const leftItem = items[left];
      if (leftItem !== undefined && this.compare(leftItem, smallestItem) < 0) {
        smallest = left;
        smallestItem = leftItem;
      }
      const rightItem = items[right];
      if (rightItem !== undefined && this.compare(rightItem, smallestItem) < 0) {
        smallest = right;
        smallestItem = rightItem;
      }
      if (smallest === index) break;
      items[index] = smallestItem;
      index = smallest;
    }
    items[index] = last;
    return top;
  }
}
