def rule_main(rt, r_replica, r_issue, r_connection):
    rt_set(rt, r_replica, 'summary', t_1 if (t_1 := rt_dget(r_issue, 'summary')) is not None else 'none', 0)
    rt_put(rt, r_replica, ('custom', 'math'), rt_sub(rt, rt_mod(rt, rt_div(rt, rt_mul(rt, rt_add(rt, 1, 2), 3), 4), 5), rt_neg(rt, rt_dget(t_2 if (t_2 := rt_dget(r_issue, 'custom')) is not None else rt_E, 'x'))), 1)
    rt_put(rt, r_replica, ('custom', 'cmp'), True if rt_dget(r_issue, 'status') == 'Done' or (rt_dget(r_issue, 'priority') is not None and (not rt_dget(r_issue, 'key') is True)) else False, 2)
    rt_put(rt, r_replica, ('custom', 'eq'), rt_eq(rt, rt_dget(t_3 if (t_3 := rt_dget(r_issue, 'custom')) is not None else rt_E, 'a'), 1), 3)
    rt_put(rt, r_replica, ('custom', 'in'), rt_dget(r_issue, 'status') in ('Done', 'Closed'), 4)
    rt_put(rt, r_replica, ('custom', 'in2'), not rt_in(rt, rt_dget(r_issue, 'key'), rt_dget(r_issue, 'labels')), 5)
    rt_put(rt, r_replica, ('custom', 'text'), rt_text(rt, rt_dget(r_issue, 'key'), '-', rt_b_len(rt, rt_dget(r_issue, 'labels'))), 6)
    rt_set(rt, r_replica, 'labels', rt_iadd(rt, rt_dget(r_replica, 'labels'), 'x', True), 7)
    rt_put(rt, r_replica, ('custom', 'merged'), rt_merge(rt, rt_dget(r_issue, 'assignee'), {'name': 'y'}), 8)
    if rt_dget(r_issue, 'status') == 'Done':
        rt_skip(rt, 'done', 11)
    elif rt_dget(r_issue, 'key') is None:
        rt_fail(rt, 'no key', 10)
    else:
        rt_log(rt, 'ok', 9)
