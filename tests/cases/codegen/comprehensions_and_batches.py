def rule_main(rt, r_replica, r_issue, r_connection):
    v_limit = 3
    rt_set_many(rt, r_replica, {'key': rt_dget(r_issue, 'key'), 'labels': 'only', 'summary': rt_dget(r_issue, 'summary')}, 0)
    rt_set_many(rt, r_replica, {'description': rt_dget(r_replica, 'summary'), 'status': rt_dget(r_issue, 'status'), 'key': 'again', 'attachments': [{'id': rt_dget(v_a if v_a is not None else rt_E, 'id'), 'filename': rt_m_upper(rt, rt_dget(v_a if v_a is not None else rt_E, 'filename'))} for v_a in t_2] if (t_2 := rt_iter(rt, rt_kept(rt, (t_1 := rt_iter(rt, rt_dget(r_issue, 'attachments'), 'filter')), [v_a for v_a in t_1 if rt_lt(rt, rt_dget(v_a if v_a is not None else rt_E, 'size'), v_limit)]), 'map')) is not None else None}, 3)
    rt_put(rt, r_replica, ('custom', 'words'), [[rt_m_upper(rt, v_w) for v_w in t_4] if (t_4 := rt_iter(rt, rt_m_split(rt, rt_dget(v_a if v_a is not None else rt_E, 'filename'), '.'), 'map')) is not None else None for v_a in t_3] if (t_3 := rt_iter(rt, rt_dget(r_issue, 'attachments'), 'map')) is not None else None, 7)
    if rt_m_any(rt, rt_dget(r_issue, 'comments'), lambda v_c: rt_gt(rt, rt_b_len(rt, rt_kept(rt, (t_5 := rt_iter(rt, rt_m_split(rt, rt_dget(v_c if v_c is not None else rt_E, 'body'), ' '), 'filter')), [v_w for v_w in t_5 if v_w == 'x'])), 0)):
        rt_set_many(rt, r_replica, {'priority': 'P1', 'type': 'Bug'}, 8)

    def loop_7(v_c):
        rt_put(rt, r_replica, ('custom', 'ids'), rt_kept(rt, (t_6 := rt_iter(rt, rt_dget(r_issue, 'labels'), 'filter')), [v_l for v_l in t_6 if rt_ne(rt, v_l, rt_dget(v_c if v_c is not None else rt_E, 'id'))]), 10)
        return []
    rt_each(rt, rt_dget(r_issue, 'comments'), loop_7, [])
