package render

import "testing"

func TestDefuseFormula(t *testing.T) {
	hostile := []string{
		"=1+1", "+1", "-1", "@SUM(A1)", "|calc", "\t=1", "\tplain", "\rplain", "\nplain", "\r\n=1",
		" =1+1", "   +cmd", "\u00A0=1", "\u3000=1", "\u200B=1", "\uFEFF=1", "\u200E-1", " \t =1",
		"＝1+1", "＋1", "－1", "＠SUM(A1)", "｜calc", " ＝1", "\u3000＋1", "﹦1", "﹢1", "﹣1", "﹫x", "−1",
		`=cmd|' /C calc'!A0`, `=HYPERLINK("http://evil.example","x")`, "=\u0000", "-",
	}
	for _, s := range hostile {
		if got := DefuseFormula(s); got != "'"+s {
			t.Errorf("DefuseFormula(%q) = %q, want %q", s, got, "'"+s)
		}
	}
	harmless := []string{
		"", " ", "   ", "plain", "东升镇", "a=b", "1+1", "x-1", "user@example.org", "a|b", "'=1", "0",
		"2026-04-01", "问题：墙体开裂 -- 需加固", "（一）", "#1", "%20",
	}
	for _, s := range harmless {
		if got := DefuseFormula(s); got != s {
			t.Errorf("DefuseFormula(%q) = %q, want it unchanged", s, got)
		}
	}
}
