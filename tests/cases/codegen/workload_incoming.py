def rule_main(rt, r_issue, r_replica, r_previous, r_first_sync, r_connection):
    k_1 = {'Bug': 'Bug', 'Story': 'Story'}
    k_4 = {'P1': 'Highest', 'P2': 'High', 'P3': 'Medium', 'P4': 'Low', 'P5': 'Lowest'}
    k_8 = {'Done': 'Resolved', 'In Progress': 'In Work'}
    if r_first_sync:
        rt_set_many(rt, r_issue, {'project': 'DEV', 'type': t_2 if (t_2 := rt_index(k_1, rt_dget(r_replica, 'type'))) is not None else 'Task'}, 0)
    rt_set_many(rt, r_issue, {'summary': rt_text(rt, '[QA] ', rt_dget(r_replica, 'summary')), 'description': rt_dget(r_replica, 'description'), 'labels': rt_m_unique(rt, rt_add(rt, rt_dget(r_replica, 'labels'), ['from-qa'])), 'components': rt_kept(rt, (t_3 := rt_iter(rt, rt_dget(r_replica, 'components'), 'filter')), [v_c for v_c in t_3 if v_c in ('Backend', 'Frontend', 'API')]), 'priority': t_5 if (t_5 := rt_index(k_4, rt_dget(r_replica, 'priority'))) is not None else 'Medium'}, 2)
    rt_set(rt, r_issue, 'assignee', t_7 if (t_7 := rt_b_user(rt, rt_dget(t_6 if (t_6 := rt_dget(r_replica, 'assignee')) is not None else rt_E, 'email'))) is not None else rt_dget(r_issue, 'assignee'), 7)
    if rt_ne(rt, rt_dget(r_replica, 'status'), rt_dget(r_previous if r_previous is not None else rt_E, 'status')):
        rt_set(rt, r_issue, 'status', t_9 if (t_9 := rt_index(k_8, rt_dget(r_replica, 'status'))) is not None else rt_dget(r_issue, 'status'), 8)
    rt_set_many(rt, r_issue, {'comments': [rt_merge(rt, v_c, {'body': rt_text(rt, rt_dget(t_11 if (t_11 := rt_dget(v_c if v_c is not None else rt_E, 'author')) is not None else rt_E, 'email'), ' wrote:\n', rt_dget(v_c if v_c is not None else rt_E, 'body'))}) for v_c in t_10] if (t_10 := rt_iter(rt, rt_dget(r_replica, 'comments'), 'map')) is not None else None, 'attachments': rt_dget(r_replica, 'attachments')}, 9)
    rt_put(rt, r_issue, ('custom', 'QA Severity'), rt_dget(t_12 if (t_12 := rt_dget(r_replica, 'custom')) is not None else rt_E, 'Severity'), 11)
    rt_put(rt, r_issue, ('custom', 'Story Points'), t_14 if (t_14 := rt_dget(t_13 if (t_13 := rt_dget(r_replica, 'custom')) is not None else rt_E, 'Story Points')) is not None else 0, 12)
