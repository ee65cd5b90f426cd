import CCairo

/// The checking funnel: every Cairo status goes through here.
///
/// Cairo records the first error of a surface or context and ignores later drawing calls, so a
/// status checked after creating an object, and again before its pixels are read, covers every
/// call in between. A failure becomes a `ReportError` naming the operation and Cairo's message.
func cairoCheck(_ status: cairo_status_t, _ operation: @autoclosure () -> String) throws(ReportError) {
    guard status != CAIRO_STATUS_SUCCESS else { return }
    let message = cairo_status_to_string(status).map { String(cString: $0) } ?? "status \(status.rawValue)"
    throw ReportError("\(operation()) failed: \(message)")
}
