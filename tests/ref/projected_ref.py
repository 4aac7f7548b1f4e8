"""Independent reference for tests/test_projected.c (test tooling, not shipped
logic; needs numpy, not run by CI or `make test`).

Fixed points of the quantile- and categorical-projected distributional
Bellman operators on FrozenLake 4x4 slippery (gamma 0.99, the optimal policy,
numpy's argmax), policy evaluation of Z(s, a): first a, then pi. Written from
the map letters, without bdrl's code. Quantile: the N atoms x[idx] with idx =
numpy searchsorted(cumsum(w), tau * total, side='left') over the atoms sorted
stably (equal values stay in order, so ties act as one merged atom);
categorical: C51's projection on [0, 1]. Prints, per projection, the mean over
the 44 non-terminal (s, a) of W1(fixed point, exact law), of the mean's bias,
and the max W1; test_floors_match_reference holds these numbers.

    /usr/bin/python3 tests/ref/projected_ref.py     # about 10 s
"""
import numpy as np
MAP = ["SFFF","FHFH","FFFH","HFFG"]
n=4; S=16; A=4; g=0.99
def kind(s): return MAP[s//n][s%n]
def move(s,a):
    r,c=divmod(s,n)
    if a==0: c=max(c-1,0)
    elif a==1: r=min(r+1,n-1)
    elif a==2: c=min(c+1,n-1)
    else: r=max(r-1,0)
    return r*n+c
P={}  # (s,a)->list of (p,s')
for s in range(S):
    for a in range(A):
        out={}
        for b in [(a-1)%4,a,(a+1)%4]:
            t=move(s,b); out[t]=out.get(t,0)+1/3
        P[(s,a)]=list(out.items())
term=lambda s: kind(s) in "HG"
# value iteration
V=np.zeros(S)
for _ in range(5000):
    Q=np.zeros((S,A))
    for s in range(S):
        if term(s): continue
        for a in range(A):
            Q[s,a]=sum(p*((1.0 if kind(t)=='G' else 0.0)+(0 if term(t) else g*V[t])) for t,p in P[(s,a)])
    V=Q.max(1)
pi=Q.argmax(1)
# exact law: hitting time distribution of goal; return g^k with k = index of the goal transition
K=3000
# H[s] = prob goal reached at transition k starting from s following pi (array over k)
H=np.zeros((S,K))
for _ in range(K):
    Hn=np.zeros((S,K))
    for s in range(S):
        if term(s): continue
        for t,p in P[(s,pi[s])]:
            if kind(t)=='G': Hn[s,0]+=p
            elif not term(t): Hn[s,1:]+=p*H[t,:-1]
    if np.allclose(Hn,H,atol=0,rtol=0): break
    H=Hn
def truth(s,a):
    h=np.zeros(K)
    for t,p in P[(s,a)]:
        if kind(t)=='G': h[0]+=p
        elif not term(t): h[1:]+=p*H[t,:-1]
    x=g**np.arange(K); w=h
    p0=1-w.sum()
    return np.concatenate([[0.0],x]), np.concatenate([[max(p0,0)],w])
def w1(x1,w1_,x2,w2):
    xs=np.concatenate([x1,x2]); o=np.argsort(xs); xs=xs[o]
    c1=np.concatenate([w1_,np.zeros_like(w2)])[o].cumsum(); c2=np.concatenate([np.zeros_like(w1_),w2])[o].cumsum()
    return np.sum(np.abs(c1-c2)[:-1]*np.diff(xs))
def mixture(s,a,Z):
    xs=[];ws=[]
    for t,p in P[(s,a)]:
        if kind(t)=='G': xs.append([1.0]); ws.append([p])
        elif kind(t)=='H': xs.append([0.0]); ws.append([p])
        else:
            z=Z[t]; xs.append(g*z[0]); ws.append(p*z[1])
    return np.concatenate(xs), np.concatenate(ws)
def qproj(x,w,N):
    o=np.argsort(x,kind='stable'); x=x[o]; c=np.cumsum(w[o]); tau=(2*np.arange(N)+1)/(2*N)
    idx=np.searchsorted(c, tau*c[-1], side='left'); idx=np.minimum(idx,len(x)-1)
    return x[idx], np.full(N,1/N)
def cproj(x,w,N,lo=0,hi=1):
    z=np.linspace(lo,hi,N); dz=(hi-lo)/(N-1); x=np.clip(x,lo,hi); b=(x-lo)/dz; l=np.floor(b).astype(int); u=np.minimum(l+1,N-1)
    m=np.zeros(N); np.add.at(m,l,w*(1-(b-l))); np.add.at(m,u,w*(b-l)); return z,m
def fixed(proj):
    Z={s:(np.zeros(1),np.ones(1)) for s in range(S)}
    for it in range(2000):
        Zn={}
        for s in range(S):
            if term(s): continue
            Zn[s]=proj(*mixture(s,pi[s],Z))
        d=max((np.abs(Zn[s][0]-Z[s][0]).max()+np.abs(Zn[s][1]-Z[s][1]).max()) if len(Z[s][0])==len(Zn[s][0]) else 1 for s in Zn)
        Z.update(Zn)
        if d<1e-13 and it>10: break
    return Z
for name,proj in [("quantile N=51",lambda x,w: qproj(x,w,51)),("quantile N=101",lambda x,w: qproj(x,w,101)),("quantile N=200",lambda x,w: qproj(x,w,200)),("quantile N=401",lambda x,w: qproj(x,w,401)),("categorical 101 [0,1]",lambda x,w: cproj(x,w,101)),("categorical 51 [0,1]",lambda x,w: cproj(x,w,51))]:
    Z=fixed(proj)
    ws=[];bs=[]
    for s in range(S):
        if term(s): continue
        for a in range(A):
            x,w=proj(*mixture(s,a,Z)); tx,tw=truth(s,a)
            ws.append(w1(x,w,tx,tw)); bs.append((x*w).sum()/w.sum()-(tx*tw).sum())
    print(f"{name}: fixed point mean W1 {np.mean(ws):.6f}, mean bias {np.mean(bs):+.6f}, max W1 {np.max(ws):.6f}")
