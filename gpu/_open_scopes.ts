// This module is browser compatible.
// The stack of open tensor scopes, innermost last: tensors join the innermost on creation and leave all on release.
import type { Tensor } from "./tensor.ts";

/** Open scopes' tensors, innermost last (shared by tensor.ts and tensor_scope.ts). */
export const openScopes: Set<Tensor>[] = [];
