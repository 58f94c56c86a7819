# Sourced by the doc-server benchmarks: `seed_document SERVER DATABASE_URL`
# stores document 1 for the demo viewer to read (alice creates it over MCP).
seed_document() {
    {
        printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"seed","version":"0"}}}' \
            '{"jsonrpc":"2.0","method":"notifications/initialized"}' \
            '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"create_document","arguments":{"token":"tok-alice-9f3a7c","title":"Quarterly notes","content":"Revenue grew in every region; the team shipped the new search and closed the audit findings."}}}'
        sleep 1
    } | "$1" --demo --database-url "$2" 2>/dev/null | grep -q 'created document id=1' ||
        { echo "could not seed document 1 on $2" >&2; return 1; }
}
