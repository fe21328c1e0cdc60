/** Where a pointer event falls on a canvas, in the canvas's own pixels (the canvas may be shown scaled). */
export function canvasPoint(e: { clientX: number; clientY: number; currentTarget: Element }, width: number, height: number): [number, number] {
  const box = e.currentTarget.getBoundingClientRect();
  return [((e.clientX - box.left) * width) / box.width, ((e.clientY - box.top) * height) / box.height];
}
